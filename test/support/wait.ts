/**
 * Polls until `probe` returns a value other than undefined/false, or fails after the deadline with
 * the last value seen, so a timeout says what was still missing rather than only "timed out".
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Asserts that `probe` stays true for the whole window (for "nothing else happens" checks). */
export async function holdsFor(
  description: string,
  probe: () => Promise<boolean> | boolean,
  { durationMs = 1_000, intervalMs = 50 }: { durationMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    if (!(await probe())) throw new Error(`expected ${description} to hold for ${durationMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
