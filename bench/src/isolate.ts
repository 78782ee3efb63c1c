/**
 * Subject isolation (`Scenario.isolate`): the scenario's cases of each subject run in a fresh
 * child process (this file as the entry, the same Node flags), one subject after the other, and
 * the results are merged into one table. Measured in one process, in-process libraries disturb
 * each other: lru-cache is shared by three subjects of the memory scenario and its call sites go
 * polymorphic, and one subject's garbage is collected on the next one's clock (a subject's own
 * rate moved by up to 2× with the set of other subjects loaded). An app runs one of them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type CaseResult,
  noCaseContains,
  notRun,
  Progress,
  type RunOptions,
  runScenario,
  type Scenario,
  type ScenarioResult,
} from './harness';

const RESULT = 'LARDER_BENCH_RESULT ';

/** Runs `scenario` (loaded from `file`) with each subject in its own child process. */
export async function runIsolated(
  scenario: Scenario<unknown>,
  file: string,
  options: RunOptions,
): Promise<ScenarioResult> {
  const subjects = scenario.isolate?.subjects ?? [];
  const results: CaseResult[] = [];
  for (const subject of subjects) {
    options.progress.log(`▶ ${scenario.name} · ${subject}: own process`);
    try {
      results.push(...(await runChild(file, subject, options)));
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      options.progress.log(`  ✗ ${subject}: ${text}`);
      return { scenario: scenario as unknown as Scenario<never>, results, error: `${subject}: ${text}` };
    }
  }
  if (results.length === 0 && options.only !== undefined) {
    return notRun(scenario, noCaseContains(options.only), options.progress);
  }
  // The table keeps the scenario's order of operations, subjects in the order given.
  const ops = [...new Set(results.map((r) => r.op))];
  results.sort((a, b) => ops.indexOf(a.op) - ops.indexOf(b.op));
  return { scenario: scenario as unknown as Scenario<never>, results };
}

function runChild(file: string, subject: string, options: RunOptions): Promise<CaseResult[]> {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), file, subject];
  const { timeMs, warmupMs, rounds, only, skipGc } = options;
  const timing = JSON.stringify({ timeMs, warmupMs, rounds, only, skipGc });
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LARDER_BENCH_SUBJECT: subject, LARDER_BENCH_TIMING: timing },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': only then has all of the child's stdout been read.
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT));
      if (code !== 0 || !line) return reject(new Error(`child exited with ${code}`));
      const result = JSON.parse(line.slice(RESULT.length)) as { results: CaseResult[]; error?: string };
      if (result.error) return reject(new Error(result.error));
      resolve(result.results);
    });
  });
}

/** Child side: runs one subject's cases of the scenario in `file` and prints the results as one line. */
async function child(file: string, subject: string): Promise<void> {
  const mod = (await import(pathToFileURL(file).href)) as { scenario: Scenario<unknown> };
  const scenario = mod.scenario;
  // `--only` is applied here with the subject: a subject without such a case has no rows (not an
  // error); `runIsolated` says so when no subject had one.
  const { only: text, ...timing } = JSON.parse(process.env.LARDER_BENCH_TIMING ?? '{}') as Omit<RunOptions, 'progress'>;
  const mine: Scenario<unknown> = {
    ...scenario,
    cases: (ctx) =>
      (typeof scenario.cases === 'function' ? scenario.cases(ctx) : scenario.cases).filter(
        (c) => c.subject === subject && (text === undefined || c.op.includes(text)),
      ),
  };
  const result = await runScenario(mine, { ...timing, progress: new Progress() });
  process.stdout.write(`${RESULT}${JSON.stringify({ results: result.results, error: result.error })}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, subject] = process.argv.slice(2) as [string, string];
  child(file, subject).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
