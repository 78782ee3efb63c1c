import type { Capability, Group, SuiteContext } from './options';

/** Options of one test. */
export interface TestOptions {
  /** Capabilities the test needs; skipping any of them skips the test. */
  needs?: readonly Capability[];
}

/** Registers the tests of one group. */
export interface Registrar {
  /** Registers a test; returns false when it was registered as skipped. */
  test(name: string, body: (ctx: SuiteContext) => Promise<void>, options?: TestOptions): boolean;
  /** The `skip` map of the options (for tests that exist only when something is skipped). */
  readonly skips: Partial<Record<Capability | Group, string>>;
}

/** A group module: its title and its tests. */
export interface GroupDefinition {
  /** Shown as the group's `describe`. */
  title: string;
  /** Registers the group's tests. */
  define(registrar: Registrar): void;
}

/** Thrown by `ctx.skip()`: the runner wrapper turns it into the runner's own skip. */
export class RuntimeSkip extends Error {
  constructor(readonly reason: string) {
    super(`skipped: ${reason}`);
  }
}
