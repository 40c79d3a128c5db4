/**
 * Offsets of one partition whose messages are handled at the same time and finish in any order. Kafka
 * keeps one committed offset per partition, so what may be committed is the end of the finished prefix:
 * a crash then redelivers every message that was not finished, and only those after it.
 */
export class PartitionProgress {
  /** Started offsets, in the order they were taken (increasing). */
  private readonly started: bigint[] = [];
  private readonly finished = new Set<bigint>();

  start(offset: string): void {
    this.started.push(BigInt(offset));
  }

  /**
   * Marks a message finished; returns the offset to commit (the next one to read, as Kafka wants it)
   * when the finished prefix grew, else null.
   */
  finish(offset: string): string | null {
    this.finished.add(BigInt(offset));
    let last: bigint | null = null;
    while (this.started.length > 0 && this.finished.has(this.started[0]!)) {
      last = this.started.shift()!;
      this.finished.delete(last);
    }
    return last === null ? null : String(last + 1n);
  }

  /** Messages started and not yet part of the committed prefix. */
  get pending(): number {
    return this.started.length;
  }
}
