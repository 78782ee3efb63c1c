/**
 * `--pin`: the servers a scenario starts on one CPU, the bench process (the clients measured) on
 * another. On a 2-core machine the scheduler otherwise moves redis-server onto the client's core
 * now and then, and a round's rate jumps by up to 40% for every subject alike; pinned, each side
 * has a core of its own, as a client and a server on two machines do.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const SERVER_CPU = 1;
const CLIENT_CPU = 0;

/** Attempts of `pinProcess` before it gives up. */
const PIN_ATTEMPTS = 5;

/**
 * Sets the CPU of every thread of process `pid` (Linux `taskset -a`), tried again when it fails:
 * it failed at start in 3 of about 30 `rc-profile.ts` runs on Node 22 (2026-11-28), each a run
 * lost, and never in a loop of 600 calls alone. Likely cause: `taskset -a` lists the threads
 * first, and one that ends before its turn (a short-lived thread of Node's or of a loader) fails
 * the whole call.
 */
export function pinProcess(pid: number, cpu: number): void {
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
      return;
    } catch (error) {
      if (attempt >= PIN_ATTEMPTS) throw error;
    }
  }
}

/** Whether pinning can work here: two CPUs or more and `taskset` (util-linux). */
export function canPin(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Before a scenario's setup: what it starts inherits the servers' CPU. */
export function pinForServers(): void {
  pinProcess(process.pid, SERVER_CPU);
}

/** After its setup: the bench process moves to the clients' CPU; what it started stays. */
export function pinForClients(): void {
  pinProcess(process.pid, CLIENT_CPU);
}
