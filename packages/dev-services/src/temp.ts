import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExitCleanup, trackForExit, untrackForExit } from './cleanup';

/** A temp directory under os.tmpdir() that is removed on remove() or when the process exits. */
export class TempDir implements ExitCleanup {
  /** Absolute path of the directory. */
  readonly path: string;
  constructor(prefix: string) {
    this.path = mkdtempSync(join(tmpdir(), `larder-${prefix}-`));
    trackForExit(this);
  }
  /** Path of a file inside the directory. */
  file(name: string): string {
    return join(this.path, name);
  }
  /** Removes the directory. */
  async remove(): Promise<void> {
    untrackForExit(this);
    await rm(this.path, { recursive: true, force: true });
  }
  /** @internal exit hook */
  cleanupSync(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
