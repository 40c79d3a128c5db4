/**
 * A pause that something else can cut short: a polling loop sleeps between rounds, and a notification
 * (an append) wakes it at once instead of waiting for the next round. Closing it (the loop is stopping)
 * ends the current wait and every later one, so a stop that arrives during a round does not first sleep
 * a whole interval.
 */
export class InterruptibleDelay {
  private wake: (() => void) | null = null;
  private closed = false;

  wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Ends the current wait, if any. */
  interrupt(): void {
    this.wake?.();
  }

  /** Ends the current wait and makes every later one return at once. */
  close(): void {
    this.closed = true;
    this.interrupt();
  }
}
