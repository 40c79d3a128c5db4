import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppError, type RateLimits } from '@contracts';
import {
  PostgresEventStore,
  TenantRepository,
  TenantSettingsStreams,
  type Principal,
} from '@libs/event-store';
import { Metrics, createLogger } from '@libs/platform';
import { createTestDatabase, type TestDatabase } from '@test/support';
import { RateLimits1765000000100 } from '../migrations/1765000000100-rate-limits';
import { RateLimitCounters } from './rate-limit-counters';
import { RateLimitPolicy, type EffectiveLimits } from './rate-limit-policy';

const DEFAULTS: EffectiveLimits = {
  tenant: { requestsPerMinute: 1_000, tokensPerMinute: 1_000_000 },
  perKey: { requestsPerMinute: 1_000, tokensPerMinute: 1_000_000 },
};

/** Two gateway replicas: each its own connection pool, limiter objects and settings cache. */
describe('rate limits shared by two gateway replicas on one PostgreSQL', () => {
  let db: TestDatabase;
  let secondPool: DataSource;
  let replicaA: RateLimitPolicy;
  let replicaB: RateLimitPolicy;
  let settings: TenantSettingsStreams;

  const replica = (dataSource: DataSource) =>
    new RateLimitPolicy(
      new RateLimitCounters(dataSource),
      new TenantSettingsStreams(new PostgresEventStore(dataSource)),
      DEFAULTS,
      0,
      new Metrics('gateway'),
      createLogger('test', 'silent'),
    );

  beforeAll(async () => {
    db = await createTestDatabase('rate_limits');
    await new RateLimits1765000000100().up(db.dataSource.createQueryRunner());
    secondPool = new DataSource({ type: 'postgres', url: db.url });
    await secondPool.initialize();
    replicaA = replica(db.dataSource);
    replicaB = replica(secondPool);
    settings = new TenantSettingsStreams(new PostgresEventStore(db.dataSource));
  });

  afterAll(async () => {
    await secondPool?.destroy();
    await db?.drop();
  });

  async function tenantWith(limits: RateLimits): Promise<string> {
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    await new TenantRepository(db.dataSource).createTenant(tenantId, tenantId);
    await settings.execute(tenantId, { type: 'replace-limits', eventId: randomUUID(), limits });
    return tenantId;
  }

  const principal = (tenantId: string, keyId = randomUUID()): Principal => ({
    tenant: { id: tenantId, name: tenantId },
    keyId,
    role: 'frontend',
  });

  async function refusal(attempt: Promise<unknown>): Promise<AppError> {
    const error = await attempt.then(
      () => null,
      (rejected: unknown) => rejected,
    );
    if (!(error instanceof AppError)) throw new Error(`expected a refusal, got ${String(error)}`);
    return error;
  }

  it('counts a tenant’s requests on both replicas together, refuses the one over, and serves another tenant', async () => {
    const acme = principal(await tenantWith({ tenant: { requestsPerMinute: 5 } }));
    const globex = principal(await tenantWith({}));

    for (let request = 0; request < 5; request++) {
      await (request % 2 === 0 ? replicaA : replicaB).admit(acme, 'requests', 1);
      await (request % 2 === 0 ? replicaB : replicaA).admit(globex, 'requests', 1);
    }
    const refused = await refusal(replicaA.admit(acme, 'requests', 1));
    const refusedElsewhere = await refusal(replicaB.admit(acme, 'requests', 1));

    expect(refused.code).toBe('rate-limited');
    expect(refused.status).toBe(429);
    expect(refused.details).toMatchObject({ limit: 'requests', scope: 'tenant', limitPerMinute: 5 });
    expect(refused.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.details.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(refusedElsewhere.code).toBe('rate-limited');
    const served = await replicaB.admit(globex, 'requests', 1);
    expect(served.tenant).toMatchObject({ allowed: true, limit: 1_000, remaining: 1_000 - 6 });
  });

  it('limits each key on its own: one key used up leaves the tenant’s other keys served', async () => {
    const tenantId = await tenantWith({ perKey: { requestsPerMinute: 2 } });
    const busy = principal(tenantId);
    const quiet = principal(tenantId);

    await replicaA.admit(busy, 'requests', 1);
    await replicaB.admit(busy, 'requests', 1);
    const refused = await refusal(replicaA.admit(busy, 'requests', 1));

    expect(refused.details).toMatchObject({ limit: 'requests', scope: 'key', limitPerMinute: 2 });
    expect((await replicaB.admit(quiet, 'requests', 1)).key.allowed).toBe(true);
  });

  it('charges tokens; a refused charge costs nothing, and a settled estimate moves the counters', async () => {
    const acme = principal(await tenantWith({ tenant: { tokensPerMinute: 1_000 } }));

    const first = await replicaA.admit(acme, 'tokens', 600);
    const refused = await refusal(replicaB.admit(acme, 'tokens', 600));
    expect(refused.details).toMatchObject({ limit: 'tokens', scope: 'tenant' });
    // The refused 600 were taken back: 400 still fit.
    await replicaB.admit(acme, 'tokens', 400);
    expect(await refusal(replicaA.admit(acme, 'tokens', 1))).toBeInstanceOf(AppError);

    // The first call's reply cost 100 tokens, not 600: 500 are free again.
    await replicaA.settle(acme, first, 100);
    expect((await replicaB.admit(acme, 'tokens', 500)).tenant.remaining).toBe(0);
  });

  it('applies a changed limit to the current window', async () => {
    const tenantId = await tenantWith({ tenant: { requestsPerMinute: 3 } });
    const acme = principal(tenantId);
    await replicaA.admit(acme, 'requests', 1);
    await replicaA.admit(acme, 'requests', 1);
    await replicaA.admit(acme, 'requests', 1);
    await refusal(replicaB.admit(acme, 'requests', 1));

    await settings.execute(tenantId, {
      type: 'replace-limits',
      eventId: randomUUID(),
      limits: { tenant: { requestsPerMinute: 10 } },
    });
    expect((await replicaB.admit(acme, 'requests', 1)).tenant).toMatchObject({ allowed: true, remaining: 6 });
  });
});
