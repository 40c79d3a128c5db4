import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { Counter, Histogram } from 'prom-client';
import { AppError, type RateLimits } from '@contracts';
import { TenantSettingsStreams, type Principal } from '@libs/event-store';
import { Metrics, PINO_LOGGER, type Logger } from '@libs/platform';
import { RateLimitCounters, type CounterState, type LimitKind } from './rate-limit-counters';

export interface PerMinute {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** The limits a tenant runs under: what it set, the gateway's defaults for the rest. */
export interface EffectiveLimits {
  tenant: PerMinute;
  perKey: PerMinute;
}

export const DEFAULT_RATE_LIMITS = Symbol('DEFAULT_RATE_LIMITS');
export const RATE_LIMITS_CACHE_TTL_MS = Symbol('RATE_LIMITS_CACHE_TTL_MS');

export function effectiveLimits(set: RateLimits, defaults: EffectiveLimits): EffectiveLimits {
  return {
    tenant: { ...defaults.tenant, ...set.tenant },
    perKey: { ...defaults.perKey, ...set.perKey },
  };
}

export type LimitScope = 'tenant' | 'key';

/** One admitted charge: both counters after it (for the response headers). */
export interface Admission {
  kind: LimitKind;
  points: number;
  tenant: CounterState;
  key: CounterState;
}

const FIELD: Record<LimitKind, keyof PerMinute> = {
  requests: 'requestsPerMinute',
  tokens: 'tokensPerMinute',
};

/**
 * Requests and model tokens per minute, for each tenant and each of its keys, on counters every
 * replica shares. A charge goes to the tenant's counter and the key's; refused by either, it is taken
 * back from both, so a refused request costs nothing. Limits are read from the tenant's settings
 * stream and kept for a few seconds per replica (a change made through this replica applies at once).
 */
@Injectable()
export class RateLimitPolicy {
  private readonly cache = new Map<string, { limits: EffectiveLimits; expiresAt: number }>();
  private readonly decisions: Counter<'limit' | 'scope' | 'outcome'>;
  private readonly checkSeconds: Histogram<'limit'>;

  constructor(
    @Inject(RateLimitCounters) private readonly counters: RateLimitCounters,
    @Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams,
    @Inject(DEFAULT_RATE_LIMITS) private readonly defaults: EffectiveLimits,
    @Inject(RATE_LIMITS_CACHE_TTL_MS) private readonly cacheTtlMs: number,
    @Inject(Metrics) metrics: Metrics,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {
    // Labels never name a tenant (cardinality); which tenant is limited is in the warn log.
    this.decisions = new Counter({
      name: 'convo_rate_limit_decisions_total',
      help: 'Rate-limit checks by limit (requests, tokens), scope that refused (tenant, key; none when allowed) and outcome',
      labelNames: ['limit', 'scope', 'outcome'] as const,
      registers: [metrics.registry],
    });
    this.checkSeconds = new Histogram({
      name: 'convo_rate_limit_check_seconds',
      help: 'Time to check and charge the shared counters in PostgreSQL, by limit',
      labelNames: ['limit'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [metrics.registry],
    });
  }

  async limitsOf(tenantId: string): Promise<EffectiveLimits> {
    const cached = this.cache.get(tenantId);
    if (cached && cached.expiresAt > Date.now()) return cached.limits;
    const { limits } = await this.settings.current(tenantId);
    const effective = effectiveLimits(limits, this.defaults);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(tenantId, { limits: effective, expiresAt: Date.now() + this.cacheTtlMs });
    return effective;
  }

  /** The tenant's limits changed through this replica: the next request reads them afresh. */
  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  /**
   * Charges `points` (1 for a request; an estimate for tokens) or throws `rate-limited` with the
   * seconds to wait, after setting `Retry-After` and the limit headers on `res`.
   */
  async admit(principal: Principal, kind: LimitKind, points: number, res?: Response): Promise<Admission> {
    const stop = this.checkSeconds.startTimer({ limit: kind });
    try {
      const limits = await this.limitsOf(principal.tenant.id);
      const tenantLimit = limits.tenant[FIELD[kind]];
      const keyLimit = limits.perKey[FIELD[kind]];
      const tenantKey = tenantCounter(principal);
      const keyKey = keyCounter(principal);
      // Two round trips at once: the request waits for one.
      const [tenant, key] = await Promise.all([
        this.counters.consume(kind, tenantKey, tenantLimit, points),
        this.counters.consume(kind, keyKey, keyLimit, points),
      ]);
      const admission: Admission = { kind, points, tenant, key };
      if (res) setLimitHeaders(res, admission);
      if (tenant.allowed && key.allowed) {
        this.decisions.inc({ limit: kind, scope: 'none', outcome: 'allowed' });
        return admission;
      }
      await Promise.all([
        this.counters.refund(kind, tenantKey, tenantLimit, points),
        this.counters.refund(kind, keyKey, keyLimit, points),
      ]);
      const scope: LimitScope = tenant.allowed ? 'key' : 'tenant';
      const refusedBy = scope === 'tenant' ? tenant : key;
      const retryAfterSeconds = Math.max(1, Math.ceil(refusedBy.resetMs / 1000));
      this.decisions.inc({ limit: kind, scope, outcome: 'limited' });
      this.logger.warn(
        { tenantId: principal.tenant.id, keyId: principal.keyId, limit: kind, scope, retryAfterSeconds },
        'rate limited',
      );
      res?.setHeader('Retry-After', String(retryAfterSeconds));
      const owner = scope === 'tenant' ? 'the tenant' : 'this API key';
      throw new AppError(
        'rate-limited',
        `${owner} may use ${refusedBy.limit} ${kind} per minute` +
          (points > 1 ? ` (this request needs ${points})` : '') +
          `; retry in ${retryAfterSeconds} s`,
        { limit: kind, scope, limitPerMinute: refusedBy.limit, retryAfterSeconds },
      );
    } finally {
      stop();
    }
  }

  /** An estimate turned out to be `actual`: the counters are moved by the difference, never refusing. */
  async settle(principal: Principal, admission: Admission, actual: number): Promise<void> {
    const limits = await this.limitsOf(principal.tenant.id);
    const limitOf = (scope: LimitScope) =>
      (scope === 'tenant' ? limits.tenant : limits.perKey)[FIELD[admission.kind]];
    const difference = actual - admission.points;
    for (const [scope, counter] of [
      ['tenant', tenantCounter(principal)],
      ['key', keyCounter(principal)],
    ] as const) {
      if (difference > 0) await this.counters.charge(admission.kind, counter, limitOf(scope), difference);
      else await this.counters.refund(admission.kind, counter, limitOf(scope), -difference);
    }
  }
}

function tenantCounter(principal: Principal): string {
  return `tenant:${principal.tenant.id}`;
}

function keyCounter(principal: Principal): string {
  return `key:${principal.keyId}`;
}

/**
 * The IETF draft's `RateLimit-*` (for the tighter of the two counters) and OpenAI's
 * `X-RateLimit-{Limit,Remaining,Reset}-{Requests,Tokens}`, so either kind of client can pace itself.
 */
export function setLimitHeaders(res: Response, admission: Admission): void {
  const tighter = admission.key.remaining < admission.tenant.remaining ? admission.key : admission.tenant;
  const resetSeconds = Math.ceil(tighter.resetMs / 1000);
  const suffix = admission.kind === 'requests' ? 'Requests' : 'Tokens';
  if (admission.kind === 'requests') {
    res.setHeader('RateLimit-Limit', String(tighter.limit));
    res.setHeader('RateLimit-Remaining', String(tighter.remaining));
    res.setHeader('RateLimit-Reset', String(resetSeconds));
  }
  res.setHeader(`X-RateLimit-Limit-${suffix}`, String(tighter.limit));
  res.setHeader(`X-RateLimit-Remaining-${suffix}`, String(tighter.remaining));
  res.setHeader(`X-RateLimit-Reset-${suffix}`, `${resetSeconds}s`);
}
