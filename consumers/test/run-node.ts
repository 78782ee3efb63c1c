import { execFile } from 'node:child_process';

/** What a finished node process printed and how it ended. */
export interface NodeRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a script with the Node that runs the tests (so CI's Node 22 and 24 runs smoke on their
 * own Node), with only the environment it is given on top of PATH and HOME: a blank app's env.
 */
export function runNode(
  script: string,
  cwd: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<NodeRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      {
        cwd,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
