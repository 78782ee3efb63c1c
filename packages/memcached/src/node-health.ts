/**
 * Tracks transport failures per node. A node that fails `ejectAfterFailures` times in a row
 * leaves the ring for `retryAfterMs`; then it is readmitted on probation: one more failure
 * ejects it again, one success clears its record. While it is out, the ring sends its keys
 * to the next node (ketama's natural fallback), where they start as misses.
 */
export class NodeHealth {
  private readonly failures = new Map<string, number>();
  private readonly ejectedUntil = new Map<string, number>();
  private readonly probation = new Set<string>();

  constructor(
    private readonly ejectAfterFailures: number,
    private readonly retryAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a transport failure; returns true when this failure ejected the node. */
  failure(node: string): boolean {
    if (this.ejectedUntil.has(node)) return false;
    const count = (this.failures.get(node) ?? 0) + 1;
    if (count >= this.ejectAfterFailures || this.probation.has(node)) {
      this.failures.delete(node);
      this.probation.delete(node);
      this.ejectedUntil.set(node, this.now() + this.retryAfterMs);
      return true;
    }
    this.failures.set(node, count);
    return false;
  }

  /** Records a successful answer from the node. */
  success(node: string): void {
    if (this.failures.size > 0) this.failures.delete(node);
    if (this.probation.size > 0) this.probation.delete(node);
  }

  /** True while the node is out of the ring. */
  isEjected(node: string): boolean {
    return this.ejectedUntil.has(node);
  }

  /** Nodes currently out of the ring. */
  ejected(): string[] {
    return [...this.ejectedUntil.keys()];
  }

  /** Readmits (on probation) every node whose retry time has come; returns them. */
  readmitDue(): string[] {
    if (this.ejectedUntil.size === 0) return [];
    const now = this.now();
    const due: string[] = [];
    for (const [node, until] of this.ejectedUntil) {
      if (until <= now) {
        this.ejectedUntil.delete(node);
        this.probation.add(node);
        due.push(node);
      }
    }
    return due;
  }

  /** Forgets a node that left the cluster. */
  forget(node: string): void {
    this.failures.delete(node);
    this.ejectedUntil.delete(node);
    this.probation.delete(node);
  }
}
