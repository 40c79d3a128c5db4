import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import type { BackendSwitchReason } from '@contracts';
import { ModelDispatcher, type DispatcherSettings } from '../dispatch';
import type { LlmClient } from '../llm.client';
import type { CanarySplitSource } from './canary-split-file';

/** A backend's role; recorded in reply-completed's parts and in switch events. */
export type BackendName = 'primary' | 'fallback' | 'canary';

/**
 * A failure that is the backend's fault (unreachable, 5xx, too slow, cut off): it counts against the
 * backend's circuit breaker and moves the turn to the other backend. `beforeFirstToken` failures of a
 * connection or a 5xx are retried on the same backend first (nothing was delivered, so nothing repeats).
 */
export class BackendFault extends Error {
  constructor(
    readonly reason: Exclude<BackendSwitchReason, 'circuit-open'>,
    readonly beforeFirstToken: boolean,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'BackendFault';
  }

  get retryable(): boolean {
    return this.beforeFirstToken && (this.reason === 'connection-error' || this.reason === 'server-error');
  }
}

export interface ResilienceSettings {
  /** Consecutive faults that open a backend's breaker. */
  breakerFailures: number;
  /** How long an open breaker refuses calls before it lets one through to test the backend. */
  breakerHalfOpenMs: number;
  /** Extra attempts on the same backend for a connection error or 5xx before the first token. */
  retries: number;
  retryBaseMs: number;
}

/** One model server: its client, its own slots (dispatcher), breaker and retry policy. */
export interface ModelBackend {
  readonly name: BackendName;
  readonly client: LlmClient;
  readonly dispatcher: ModelDispatcher;
  readonly breaker: CircuitBreakerPolicy;
  readonly retry: RetryPolicy;
}

export function modelBackend(
  name: BackendName,
  client: LlmClient,
  slots: DispatcherSettings,
  settings: ResilienceSettings,
): ModelBackend {
  return {
    name,
    client,
    dispatcher: new ModelDispatcher(slots),
    breaker: circuitBreaker(
      handleWhen((error) => error instanceof BackendFault),
      {
        halfOpenAfter: settings.breakerHalfOpenMs,
        breaker: new ConsecutiveBreaker(settings.breakerFailures),
      },
    ),
    // Exponential backoff with decorrelated jitter (cockatiel's default), so retries of many turns
    // at once do not arrive together.
    retry: retry(
      handleWhen((error) => error instanceof BackendFault && error.retryable),
      {
        maxAttempts: settings.retries,
        backoff: new ExponentialBackoff({
          initialDelay: settings.retryBaseMs,
          maxDelay: settings.retryBaseMs * 8,
        }),
      },
    ),
  };
}

/** The optional canary: a candidate model and the share of each tenant's conversations it answers. */
export interface CanaryRoute {
  backend: ModelBackend;
  split: CanarySplitSource;
}

/**
 * The backends a reply may use, in the order it tries them. Tenants listed in the routing policy go to
 * the fallback by choice (a commercial model they pay for) and fall back on the primary. A conversation
 * in the tenant's canary share tries the canary first, then the usual order; the choice hangs on the
 * conversation id only, and the backend that answered is in reply-completed's parts (`canary`).
 */
export class ModelBackends {
  constructor(
    readonly primary: ModelBackend,
    readonly fallback: ModelBackend | null,
    private readonly fallbackTenants: ReadonlySet<string> = new Set(),
    private readonly canary: CanaryRoute | null = null,
  ) {}

  route(tenantId: string, conversationId: string): ModelBackend[] {
    const usual = this.usualRoute(tenantId);
    return this.isCanary(tenantId, conversationId) && this.canary ? [this.canary.backend, ...usual] : usual;
  }

  isCanary(tenantId: string, conversationId: string): boolean {
    return this.canary?.split.current().isCanary(tenantId, conversationId) ?? false;
  }

  /** How many canary splits were loaded (null: no canary). */
  get canarySplitLoads(): number | null {
    return this.canary?.split.loads ?? null;
  }

  all(): ModelBackend[] {
    return [
      this.primary,
      ...(this.fallback ? [this.fallback] : []),
      ...(this.canary ? [this.canary.backend] : []),
    ];
  }

  private usualRoute(tenantId: string): ModelBackend[] {
    if (!this.fallback) return [this.primary];
    return this.fallbackTenants.has(tenantId) ? [this.fallback, this.primary] : [this.primary, this.fallback];
  }
}
