import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'examples/express-app/Dockerfile'), 'utf8');
// Instructions, with continued lines joined.
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((line) => /^[A-Z]+ /.test(line));
const stages = instructions.reduce<string[][]>((list, line) => {
  if (line.startsWith('FROM ')) list.push([]);
  list.at(-1)?.push(line);
  return list;
}, []);
const [build, runtime] = stages as [string[], string[]];
const DEV_TOOLING = ['typescript', 'vitest', '@biomejs', 'playwright-core', 'supertest', 'tsup', '@types', 'ajv'];

// No Docker engine here: the Dockerfile is checked as text, and its build stage's recipe (pnpm
// deploy of the app) is run on this workspace; the result is what the image ships.
describe('the example Dockerfile', () => {
  it('builds on Node 22 or 24 in two stages, dependencies fetched before the sources are copied', () => {
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=(22|24)\.\d+\.\d+$/m);
    expect(stages).toHaveLength(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim/);
    const fetchAt = build.findIndex((line) => line === 'RUN pnpm fetch');
    const sourcesAt = build.findIndex((line) => line === 'COPY . .');
    expect(fetchAt).toBeGreaterThan(0);
    expect(sourcesAt).toBeGreaterThan(fetchAt);
    // Before the fetch, only the lockfile and the workspace file: a source change keeps that layer.
    for (const line of build.slice(0, fetchAt).filter((l) => l.startsWith('COPY '))) {
      expect(line).toBe('COPY pnpm-lock.yaml pnpm-workspace.yaml ./');
    }
    // The image takes only the deploy output and the emulator bundle from the build stage.
    expect(runtime.filter((line) => line.startsWith('COPY '))).toEqual([
      'COPY --from=build --chown=node:node /out/app ./',
      'COPY --from=build /out/emulator /opt/larder/emulator',
    ]);
    expect(runtime.join('\n')).not.toMatch(/pnpm|npm install/);
    expect(runtime).toContain('USER node');
    expect(runtime.at(-1)).toBe('CMD ["node", "--import", "tsx", "src/server.ts"]');
  });

  describe('what the image ships (the build stage run on this workspace)', { timeout: 180_000 }, () => {
    let out: string;
    let server: ChildProcess | undefined;
    beforeAll(() => {
      expect(existsSync(join(ROOT, 'packages/cli/dist/bin.js')), 'run `pnpm build` first').toBe(true);
      out = mkdtempSync(join(tmpdir(), 'larder-image-'));
      const deploy = (build.find((line) => line.includes(' deploy ')) as string)
        .split('&&')
        .map((part) => part.replace(/^RUN /, '').trim())
        .find((part) => part.includes(' deploy ')) as string;
      const args = deploy
        .split(/\s+/)
        .slice(1)
        .map((arg) => (arg === '/out/app' ? join(out, 'app') : arg.replace(/^"|"$/g, '')));
      execFileSync('pnpm', args, { cwd: ROOT, stdio: 'ignore' });
      // The emulator step: its ESM build and a package.json saying so.
      const emulator = join(out, 'emulator');
      mkdirSync(emulator);
      for (const file of readdirSync(join(ROOT, 'packages/dev-services/dist')).filter((f) => f.endsWith('.js'))) {
        copyFileSync(join(ROOT, 'packages/dev-services/dist', file), join(emulator, file));
      }
      writeFileSync(join(emulator, 'package.json'), '{ "type": "module" }');
    }, 180_000);
    afterAll(() => {
      server?.kill('SIGTERM');
      rmSync(out, { recursive: true, force: true });
    });

    it('has no development tooling, and runs the app, the CLI and the emulator from it', async () => {
      const app = join(out, 'app');
      const installed = [
        ...readdirSync(join(app, 'node_modules')),
        ...readdirSync(join(app, 'node_modules/.pnpm')).map((name) => name.replace(/@[^@]+$/, '')),
      ];
      for (const tool of DEV_TOOLING)
        expect(
          installed.filter((name) => name.startsWith(tool)),
          tool,
        ).toEqual([]);
      // The tests stay out of the build context (so out of the image) too.
      const ignored = readFileSync(join(ROOT, 'examples/express-app/Dockerfile.dockerignore'), 'utf8').split('\n');
      expect(ignored).toContain('examples/*/test');
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production' };
      const version = execFileSync(process.execPath, ['node_modules/@larder/cli/dist/bin.js', '--version'], {
        cwd: app,
        env,
        encoding: 'utf8',
      });
      expect(version).toMatch(/^\d+\.\d+\.\d+\n$/);
      const help = execFileSync(process.execPath, [join(out, 'emulator/emulator-cli.js'), '--help'], {
        env,
        encoding: 'utf8',
      });
      expect(help).toContain('config get cluster');
      const port = await findFreePort();
      server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: app,
        env: { ...env, PORT: String(port) },
        stdio: 'ignore',
      });
      const health = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return res?.ok ? ((await res.json()) as { ok: boolean }) : undefined;
        },
        { timeoutMs: 90_000, description: 'the deployed app to answer /healthz' },
      );
      expect(health.ok).toBe(true);
    });
  });
});
