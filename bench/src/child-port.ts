import type { ChildProcess } from 'node:child_process';

/** The port a bench app in a child process announces on stdout (`PORT <n>`); rejects naming `what` if it exits first. */
export function childPort(child: ChildProcess, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = /^PORT (\d+)$/m.exec(text);
      if (line) resolve(Number(line[1]));
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}
