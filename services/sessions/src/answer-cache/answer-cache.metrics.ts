import { Counter } from 'prom-client';
import type { Metrics } from '@libs/platform';

/** How a cacheable (pure FAQ) turn's lookup went. */
export type AnswerCacheLookup = 'hit' | 'miss' | 'source-erased';

/** The answer cache's hit ratio: `convo_answer_cache_lookups_total{result}` (no tenant label). */
export class AnswerCacheMetrics {
  private readonly lookups: Counter<'result'>;

  constructor(metrics: Metrics) {
    this.lookups = new Counter({
      name: 'convo_answer_cache_lookups_total',
      help: 'Answer-cache lookups of pure FAQ turns, by result (hit, miss, source-erased)',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
  }

  looked(result: AnswerCacheLookup): void {
    this.lookups.inc({ result });
  }
}
