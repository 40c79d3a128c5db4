import {
  CircuitState,
  ConsecutiveBreaker,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';

export type SearchBackend = 'elasticsearch' | 'milvus' | 'embeddings';
export const SEARCH_BACKENDS: SearchBackend[] = ['elasticsearch', 'milvus', 'embeddings'];

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface BreakerSettings {
  /** A query call slower than this counts as failed and is abandoned. */
  timeoutMs: number;
  /** Consecutive failures that open the breaker. */
  failuresToOpen: number;
  /** How long an open breaker refuses calls before letting one probe through (half-open). */
  openForMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  timeoutMs: 500,
  failuresToOpen: 5,
  openForMs: 30_000,
};

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * One circuit breaker per search backend (cockatiel), on the query path only: a slow or dead backend
 * costs a turn at most `timeoutMs`, and after `failuresToOpen` failures in a row none at all until a
 * probe gets through. Ingestion does not go through them: it is retried by its consumer instead.
 */
export class BackendBreakers {
  private readonly breakers = new Map<SearchBackend, CircuitBreakerPolicy>();
  private readonly policies = new Map<SearchBackend, IPolicy>();

  constructor(
    settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS,
    onStateChange: (backend: SearchBackend, state: BreakerState) => void = () => undefined,
  ) {
    for (const backend of SEARCH_BACKENDS) {
      const breaker = circuitBreaker(handleAll, {
        halfOpenAfter: settings.openForMs,
        breaker: new ConsecutiveBreaker(settings.failuresToOpen),
      });
      breaker.onStateChange((state) => onStateChange(backend, STATE_NAMES[state]));
      this.breakers.set(backend, breaker);
      // The breaker outside the timeout: a timeout is a failure the breaker counts. A call that returned
      // has nothing left to cancel: not aborting its signal then spares a DOMException (and its stack)
      // per call, 1.7 % of retrieval's CPU at saturation.
      const deadline = timeout(settings.timeoutMs, {
        strategy: TimeoutStrategy.Aggressive,
        abortOnReturn: false,
      });
      this.policies.set(backend, wrap(breaker, deadline));
    }
  }

  /** Runs a call to `backend` through its breaker; rejects at once while the breaker is open. */
  run<T>(backend: SearchBackend, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.policies.get(backend)!.execute(({ signal }) => call(signal));
  }

  state(backend: SearchBackend): BreakerState {
    return STATE_NAMES[this.breakers.get(backend)!.state];
  }

  states(): Record<SearchBackend, BreakerState> {
    return Object.fromEntries(SEARCH_BACKENDS.map((backend) => [backend, this.state(backend)])) as Record<
      SearchBackend,
      BreakerState
    >;
  }
}
