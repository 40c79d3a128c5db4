/**
 * Batches streamed tokens into chunks: one event per interval or per size, whichever comes first,
 * so a reply costs a handful of events instead of one per token. The first text goes out at once,
 * since time to first token is what a waiting customer notices. The clock is passed in.
 */
export class ReplyChunker {
  private buffer = '';
  private lastFlushAt: number;
  private flushedAny = false;

  constructor(
    private readonly flushMs: number,
    private readonly maxChars: number,
    private readonly now: () => number,
  ) {
    this.lastFlushAt = now();
  }

  /** Adds text; returns a chunk when one is due. */
  push(text: string): string | null {
    this.buffer += text;
    if (this.buffer.length === 0) return null; // a chunk event needs text
    if (
      !this.flushedAny ||
      this.buffer.length >= this.maxChars ||
      this.now() - this.lastFlushAt >= this.flushMs
    )
      return this.take();
    return null;
  }

  /** Whatever is left when the stream ends. */
  drain(): string | null {
    return this.buffer.length > 0 ? this.take() : null;
  }

  private take(): string {
    const chunk = this.buffer;
    this.buffer = '';
    this.lastFlushAt = this.now();
    this.flushedAny = true;
    return chunk;
  }
}
