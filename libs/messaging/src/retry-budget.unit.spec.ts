import { RetryBudget, retryDelayMs } from './retry-budget';

describe('RetryBudget', () => {
  it('given transient failures, parks at the maxAttempts-th', () => {
    const budget = new RetryBudget({ maxAttempts: 3, maxRetryMs: 60_000 });

    expect([0, 10, 20].map((now) => budget.spentBy('transient', now))).toEqual([false, false, true]);
  });

  it('given slow transient failures, parks at the first one maxRetryMs or more after the first', () => {
    const budget = new RetryBudget({ maxAttempts: 100, maxRetryMs: 1_000 });

    expect([5_000, 5_400, 5_999, 6_000].map((now) => budget.spentBy('transient', now))).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  it('given a single failure slower than maxRetryMs, still retries once: the clock starts at the first failure', () => {
    const budget = new RetryBudget({ maxAttempts: 10, maxRetryMs: 1_000 });

    expect(budget.spentBy('transient', 90_000)).toBe(false);
  });

  it('given an outage, never parks however long it lasts', () => {
    const budget = new RetryBudget({ maxAttempts: 2, maxRetryMs: 1_000 });

    for (let now = 0; now < 600_000; now += 5_000) expect(budget.spentBy('outage', now)).toBe(false);
  });

  it('given transient failures around an outage, starts the budget afresh after it', () => {
    const budget = new RetryBudget({ maxAttempts: 3, maxRetryMs: 1_000 });

    expect(budget.spentBy('transient', 0)).toBe(false);
    expect(budget.spentBy('transient', 500)).toBe(false);
    expect(budget.spentBy('outage', 700)).toBe(false);
    expect(budget.spentBy('transient', 5_000)).toBe(false);
    expect(budget.spentBy('transient', 5_500)).toBe(false);
    expect(budget.spentBy('transient', 5_600)).toBe(true);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 400 ms and stays at 5 s, however many attempts', () => {
    expect([1, 2, 3, 4, 5, 6, 50, 2_000].map(retryDelayMs)).toEqual([
      400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000,
    ]);
  });
});
