// Prints CI's closing line `N passed, N failed` from vitest's JSON reports.
// A step that failed outside the tests (install, build, lint, typecheck, a crashed run) counts as one failure.
import fs from 'node:fs';

const stepsFile = '.ci/failed-steps.txt';
const args = process.argv.slice(2);
if (args[0] === '--reset') {
  fs.rmSync(stepsFile, { force: true });
  for (const f of ['.ci/results-node20.json', '.ci/results-node22.json', '.ci/results-node24.json'])
    fs.rmSync(f, { force: true });
  process.exit(0);
}
if (args[0] === '--failed-step') {
  fs.appendFileSync(stepsFile, `${args.slice(1).join(' ')}\n`);
  process.exit(0);
}

let passed = 0;
let failed = 0;
for (const file of args) {
  if (!fs.existsSync(file)) {
    console.log(`missing test report: ${file}`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  for (const suite of report.testResults ?? []) {
    // Name each failed test and its first error line, so that the tail of CI's log says what failed.
    for (const test of suite.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      const why = (test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      console.log(`failed test (${file}): ${suite.name.replace(process.cwd(), '')} > ${test.fullName}: ${why}`);
    }
    if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) {
      console.log(`test file failed to run: ${suite.name}: ${(suite.message ?? '').split('\n')[0]}`);
      failed += 1;
    }
  }
}
const steps = fs.existsSync(stepsFile) ? fs.readFileSync(stepsFile, 'utf8').trim().split('\n').filter(Boolean) : [];
for (const step of steps) console.log(`failed step: ${step}`);
failed += steps.length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
