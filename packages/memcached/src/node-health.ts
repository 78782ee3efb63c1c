/**
 * Tracks transport failures per node. A node that fails `ejectAfterFailures` times in a row
 * leaves the ring, unless it is the last node on it (then calls keep going to it and fail or
 * succeed on their own). An ejected node is readmitted on probation when a background probe
 * gets an answer (see node-probes.ts): one more failure ejects it again, one success clears
 * its record. While it is out, the ring sends its keys to the next node (ketama's natural
 * fallback), where they start as misses.
 */
export class NodeHealth {
  private readonly failures = new Map<string, number>();
  private readonly ejectedNodes = new Set<string>();
  private readonly probation = new Set<string>();

  constructor(private readonly ejectAfterFailures: number) {}

  /** Records a transport failure; returns true when this failure ejected the node (never when `isLast`). */
  failure(node: string, isLast: boolean): boolean {
    if (this.ejectedNodes.has(node)) return false;
    const count = (this.failures.get(node) ?? 0) + 1;
    if (!isLast && (count >= this.ejectAfterFailures || this.probation.has(node))) {
      this.failures.delete(node);
      this.probation.delete(node);
      this.ejectedNodes.add(node);
      return true;
    }
    this.failures.set(node, Math.min(count, this.ejectAfterFailures));
    return false;
  }

  /** Records a successful answer from the node. */
  success(node: string): void {
    if (this.failures.size > 0) this.failures.delete(node);
    if (this.probation.size > 0) this.probation.delete(node);
  }

  /** True while the node is out of the ring. */
  isEjected(node: string): boolean {
    return this.ejectedNodes.has(node);
  }

  /** Nodes currently out of the ring. */
  ejected(): string[] {
    return [...this.ejectedNodes];
  }

  /** Puts an ejected node back (on probation: its next failure ejects it again); false if it was not out. */
  readmit(node: string): boolean {
    if (!this.ejectedNodes.delete(node)) return false;
    this.probation.add(node);
    return true;
  }

  /** Forgets a node that left the cluster. */
  forget(node: string): void {
    this.failures.delete(node);
    this.ejectedNodes.delete(node);
    this.probation.delete(node);
  }
}
