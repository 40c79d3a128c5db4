import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';

/** The table the counters live in (the gateway's own migration creates it). */
export const RATE_LIMIT_TABLE = 'gateway_rate_limits';

/** Every limit is per rolling minute (a fixed one-minute window per counter, as rate-limiter-flexible keeps them). */
export const WINDOW_SECONDS = 60;

export type LimitKind = 'requests' | 'tokens';

/** What one counter says after a change: within its limit or not, and when its window ends. */
export interface CounterState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the window ends and the counter starts from zero. */
  resetMs: number;
}

/**
 * Per-minute counters shared by every gateway replica, kept in PostgreSQL by rate-limiter-flexible (one
 * row per counter, updated with one atomic upsert). The adapter for that library: nothing else imports
 * it. A limiter object carries its limit, so there is one per distinct limit value; they all count in
 * the same rows (the key does not name the limit), so a changed limit applies to the current window.
 */
export class RateLimitCounters {
  private readonly limiters = new Map<string, RateLimiterPostgres>();

  constructor(private readonly db: DataSource) {}

  /** Adds `points` to the counter; over the limit, the points stay added until the window ends. */
  async consume(kind: LimitKind, key: string, limit: number, points: number): Promise<CounterState> {
    try {
      return stateOf(await this.limiter(kind, limit).consume(key, points), limit, true);
    } catch (rejection) {
      // rate-limiter-flexible rejects with its result when over the limit and with the error otherwise.
      if (rejection instanceof RateLimiterRes) return stateOf(rejection, limit, false);
      throw rejection;
    }
  }

  /** Takes points back (a request refused by another counter; an estimate settled lower). */
  async refund(kind: LimitKind, key: string, limit: number, points: number): Promise<void> {
    if (points > 0) await this.limiter(kind, limit).reward(key, points);
  }

  /** Adds points without refusing anything (an estimate settled higher: the next request pays). */
  async charge(kind: LimitKind, key: string, limit: number, points: number): Promise<void> {
    if (points > 0) await this.limiter(kind, limit).penalty(key, points);
  }

  private limiter(kind: LimitKind, limit: number): RateLimiterPostgres {
    const name = `${kind}:${limit}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterPostgres({
        storeClient: this.db,
        storeType: 'typeorm',
        tableName: RATE_LIMIT_TABLE,
        tableCreated: true,
        // One limiter per replica sweeps rows of windows that ended over an hour ago.
        clearExpiredByTimeout: this.limiters.size === 0,
        keyPrefix: kind,
        points: limit,
        duration: WINDOW_SECONDS,
      });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }
}

function stateOf(result: RateLimiterRes, limit: number, allowed: boolean): CounterState {
  return {
    allowed,
    limit,
    remaining: Math.max(limit - result.consumedPoints, 0),
    resetMs: Math.max(result.msBeforeNext, 0),
  };
}
