import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  CheckpointedSubscription,
  PostgresEventStore,
  START_OF_STORE,
  migrateOwnTables,
  type Projection,
  type RecordedEvent,
} from '@libs/event-store';
import { createLogger } from '@libs/platform';
import {
  closed,
  createTenantWithKey,
  createTestDatabase,
  started,
  target,
  transactionsHoldingTheHorizon,
  waitFor,
  understoodTurn,
  type TestDatabase,
} from '@test/support';
import { AUDIT_TABLES } from '../migrations';
import { summarize, type ConversationSummary } from './conversation-summary';
import { ConversationSummaryProjection, fromRow } from './conversation-summary.projection';

jest.setTimeout(120_000);

const logger = createLogger('projection-test', 'silent');
let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('audit_projection');
  await migrateOwnTables(db.url, AUDIT_TABLES);
  await createTenantWithKey(db.dataSource, 'acme');
  await createTenantWithKey(db.dataSource, 'globex');
  store = new PostgresEventStore(db.dataSource);
});

afterAll(async () => {
  await db?.drop();
});

/**
 * A conversation's whole life: start, turns with intents (one intent task failing), slots, knowledge
 * searches (some degraded), replies (one in three failing), closed (or left open).
 */
async function converse(tenantId: string, turns: number, close: boolean): Promise<void> {
  const conversationId = randomUUID();
  await store.append(target(tenantId, conversationId, 0), [started()]);
  for (let turn = 0; turn < turns; turn++) {
    await store.append(
      target(tenantId, conversationId, 'any'),
      understoodTurn({
        text: `question ${turn}`,
        intent: turn === 3 ? 'failed' : INTENTS[turn % INTENTS.length]!,
        slots: turn === 1 ? { order_id: `A${turn}`, reason: null } : undefined,
        degraded: { keyword: turn === 2, vector: false },
        outcome: turn % 3 === 2 ? 'failed' : 'completed',
        model: turn === 1 ? 'fallback-model' : 'm',
        promptTokens: 10 + turn,
      }),
    );
  }
  if (close) await store.append(target(tenantId, conversationId, 'any'), [closed()]);
}

const INTENTS = ['order_status', 'refund', 'other'];

async function traffic(conversations: number): Promise<void> {
  await Promise.all(
    Array.from({ length: conversations }, (_, index) =>
      converse(index % 2 === 0 ? 'acme' : 'globex', 1 + (index % 4), index % 3 !== 0),
    ),
  );
}

async function rows(): Promise<ConversationSummary[]> {
  const found: Parameters<typeof fromRow>[0][] = await db.dataSource.query(
    'SELECT * FROM audit_conversation_summaries ORDER BY tenant_id, conversation_id',
  );
  return found.map(fromRow);
}

/** The rows as a fold of every stored event computes them, independently of the projection's batching. */
async function expectedRows(): Promise<ConversationSummary[]> {
  const byConversation = new Map<string, ConversationSummary>();
  let last = START_OF_STORE;
  for (;;) {
    const page = await store.readAll(last, 1000);
    if (page.length === 0) break;
    for (const { event } of page) {
      if (!('conversationId' in event)) continue;
      const key = `${event.tenantId}\u0000${event.conversationId}`;
      const next = summarize(byConversation.get(key), event);
      if (next) byConversation.set(key, next);
    }
    last = page.at(-1)!.position;
  }
  return [...byConversation.values()].sort((a, b) =>
    a.tenantId === b.tenantId
      ? a.conversationId < b.conversationId
        ? -1
        : 1
      : a.tenantId < b.tenantId
        ? -1
        : 1,
  );
}

function subscription(projection: Projection, batchSize = 25): CheckpointedSubscription {
  return new CheckpointedSubscription(db.dataSource, store, projection, logger, {
    batchSize,
    pollIntervalMs: 20,
  });
}

/** Dies (its database session is killed, as in a crash) inside the transaction of its `failAt`-th batch. */
class CrashingProjection extends ConversationSummaryProjection {
  batches = 0;

  constructor(private readonly failAt: number) {
    super();
  }

  override async apply(events: readonly RecordedEvent[], tx: EntityManager): Promise<void> {
    await super.apply(events, tx);
    if (++this.batches === this.failAt) await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
  }
}

describe('ConversationSummaryProjection on read-all with a checkpoint', () => {
  it('run live during traffic, rebuilt from position 0, or crashed and resumed: the same rows, none lost or doubled', async () => {
    // Live: the subscription runs while conversations are written concurrently.
    const live = subscription(new ConversationSummaryProjection());
    live.start();
    await traffic(30);
    await traffic(20);
    // The expectation is read again on every probe: read-all itself hides the last appends while an older
    // transaction (the live subscription's own batch) is open, so one early read could stay short forever.
    let expected: ConversationSummary[] = [];
    await waitFor(
      'the live projection to catch up',
      async () => {
        expected = await expectedRows();
        return expected.length === 50 && JSON.stringify(await rows()) === JSON.stringify(expected);
      },
      { timeoutMs: 30_000 },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await transactionsHoldingTheHorizon(db.dataSource)}`);
    });
    await live.stop();
    const liveRows = await rows();
    expect(liveRows).toEqual(expected);
    expect(liveRows.length).toBe(50);
    // The analytics fields vary across the rows, so "equal" compares something.
    expect(new Set(liveRows.map((row) => row.intents.join()))).toEqual(
      new Set(['order_status', 'order_status,refund', 'order_status,refund,other']),
    );
    expect(liveRows.filter((row) => row.intentFallbacks > 0).length).toBeGreaterThan(0);
    expect(liveRows.filter((row) => row.retrievalsDegraded > 0).length).toBeGreaterThan(0);
    expect(liveRows.filter((row) => row.slotsFilled.includes('order_id')).length).toBeGreaterThan(0);
    expect(liveRows.every((row) => row.latencyTurns === row.turnsCompleted)).toBe(true);
    expect(liveRows.some((row) => row.models.includes('fallback-model'))).toBe(true);

    // Rebuilt from position 0: the same rows.
    const rebuild = subscription(new ConversationSummaryProjection());
    await rebuild.reset();
    expect(await rows()).toEqual([]);
    expect(await rebuild.checkpoint()).toEqual(START_OF_STORE);
    const handled = await rebuild.catchUp();
    expect(handled).toBeGreaterThan(200);
    expect(await rows()).toEqual(liveRows);

    // Crashed mid-way (the 4th batch's transaction dies), then a new instance resumes from the checkpoint.
    await rebuild.reset();
    const crashing = subscription(new CrashingProjection(4));
    await expect(crashing.catchUp()).rejects.toThrow();
    const checkpointAfterCrash = await crashing.checkpoint();
    expect(checkpointAfterCrash).not.toEqual(START_OF_STORE); // three batches committed
    const partial = await rows();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(liveRows.length);

    const resumed = subscription(new ConversationSummaryProjection());
    const rest = await resumed.catchUp();
    expect(rest).toBe(handled - 3 * 25);
    expect(await rows()).toEqual(liveRows);
  });
});
