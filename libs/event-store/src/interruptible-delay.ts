/**
 * A pause that something else can cut short: a polling loop sleeps between rounds, and a notification
 * (an append, a shutdown) wakes it at once instead of waiting for the next round.
 */
export class InterruptibleDelay {
  private wake: (() => void) | null = null;

  wait(ms: number): Promise<void> {
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
}
