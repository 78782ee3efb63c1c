#!/usr/bin/env node
// Run after `tsup` in a package folder (`"build": "tsup && node ../../scripts/cjs-entries.mjs"`).
//
// Packages are built as ESM only. For every `require` target in package.json's `exports`, this
// writes a one-line CommonJS file that returns the ESM build (`module.exports = require('./x.js')`,
// which Node >= 20.19 does without a flag), and gives every `.d.ts` a `.d.cts` twin for
// TypeScript's CommonJS resolution. So a CommonJS app, an ESM app, and the driver packages core
// loads all share one instance of each module: one core, one set of error classes.
// See packages/core/README.md "CommonJS and ESM" for why.
import fs from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const dist = path.join(root, 'dist');

/** `.d.ts` -> `.d.cts`, with relative `./x.js` specifiers pointing at the `.cjs` twins. */
function writeDeclarationTwins() {
  const specifier = /((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]+)\.js\2/g;
  for (const name of fs.readdirSync(dist)) {
    if (!name.endsWith('.d.ts')) continue;
    const text = fs.readFileSync(path.join(dist, name), 'utf8');
    const twin = text.replace(specifier, (_all, lead, quote, target) => `${lead}${quote}${target}.cjs${quote}`);
    fs.writeFileSync(path.join(dist, name.replace(/\.d\.ts$/, '.d.cts')), twin);
  }
}

/** Every `{ import, require }` pair of the exports map (one per subpath). */
function conditionPairs(exports) {
  const pairs = [];
  for (const [subpath, target] of Object.entries(exports ?? {})) {
    if (target && typeof target === 'object' && target.import && target.require) {
      pairs.push({ subpath, esm: target.import.default, cjs: target.require.default });
    }
  }
  return pairs;
}

function writeCommonJsEntries() {
  const pairs = conditionPairs(manifest.exports);
  if (pairs.length === 0) throw new Error(`${manifest.name}: no import/require pairs in package.json exports`);
  for (const { subpath, esm, cjs } of pairs) {
    if (!esm?.endsWith('.js') || !cjs?.endsWith('.cjs')) {
      throw new Error(`${manifest.name} exports['${subpath}']: expected import -> .js and require -> .cjs`);
    }
    const esmFile = path.join(root, esm);
    if (!fs.existsSync(esmFile)) throw new Error(`${manifest.name}: ${esm} was not built`);
    const relative = `./${path
      .relative(path.dirname(path.join(root, cjs)), esmFile)
      .split(path.sep)
      .join('/')}`;
    const body =
      '// One module instance for CommonJS and ESM callers: require() of the ESM build (Node >= 20.19).\n' +
      `module.exports = require(${JSON.stringify(relative)});\n`;
    fs.writeFileSync(path.join(root, cjs), body);
  }
}

writeDeclarationTwins();
writeCommonJsEntries();
