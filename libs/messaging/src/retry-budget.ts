import type { FailureKind } from './failure-kind';

export interface RetryBudgetLimits {
  /** Transient failures of one delivery before the message is parked. */
  maxAttempts: number;
  /** Time after the first transient failure after which the message is parked at its next failure. */
  maxRetryMs: number;
}

/**
 * How long one delivery of a message may keep failing before it is parked, so that a poison message
 * holds up its partition for a bounded time. Transient failures spend the budget; an outage spends
 * nothing and starts it afresh, since failures at an outage's edges are the outage, not the message.
 */
export class RetryBudget {
  private failures = 0;
  private firstFailureAt: number | undefined;

  constructor(private readonly limits: RetryBudgetLimits) {}

  /** Records a retryable failure at `now` (ms); true when the budget is spent and the message must be parked. */
  spentBy(kind: Exclude<FailureKind, 'rejected'>, now: number): boolean {
    if (kind === 'outage') {
      this.failures = 0;
      this.firstFailureAt = undefined;
      return false;
    }
    this.failures++;
    this.firstFailureAt ??= now;
    return this.failures >= this.limits.maxAttempts || now - this.firstFailureAt >= this.limits.maxRetryMs;
  }
}

/** Exponential backoff before retry `attempt` (1-based), capped so a recovered dependency is seen soon. */
export function retryDelayMs(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 5_000);
}
