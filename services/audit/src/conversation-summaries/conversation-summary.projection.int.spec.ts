import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { PendingEvent } from '@contracts';
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
  messageReceived,
  started,
  target,
  waitFor,
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

/** A conversation's whole life: start, messages, a turn answered, one failed, closed (or left open). */
async function converse(tenantId: string, turns: number, close: boolean): Promise<void> {
  const conversationId = randomUUID();
  await store.append(target(tenantId, conversationId, 0), [started()]);
  for (let turn = 0; turn < turns; turn++) {
    const message = messageReceived(`question ${turn}`);
    const turnId = randomUUID();
    const outcome: PendingEvent =
      turn % 3 === 2
        ? {
            eventId: randomUUID(),
            type: 'conversation.reply-failed.v1',
            data: { turnId, attempt: 1, code: 'model-timeout', message: 'slow' },
          }
        : {
            eventId: randomUUID(),
            type: 'conversation.reply-completed.v2',
            data: {
              turnId,
              attempt: 1,
              text: `answer ${turn}`,
              model: 'm',
              finishReason: 'stop',
              usage: { promptTokens: 10 + turn, completionTokens: 5 },
              timings: { firstTokenMs: 1, totalMs: 2 },
              parts: [{ backend: 'primary', model: 'm', start: 0, end: `answer ${turn}`.length }],
            },
          };
    await store.append(target(tenantId, conversationId, 'any'), [
      message,
      {
        eventId: randomUUID(),
        type: 'conversation.reply-requested.v1',
        data: {
          turnId,
          inReplyTo: [(message.data as { messageId: string }).messageId],
          prompt: [{ role: 'user', content: 'q' }],
          maxTokens: 64,
        },
      },
      {
        eventId: randomUUID(),
        type: 'conversation.reply-chunk-generated.v1',
        data: { turnId, attempt: 1, chunkIndex: 0, text: 'a' },
      },
      outcome,
    ]);
  }
  if (close) await store.append(target(tenantId, conversationId, 'any'), [closed()]);
}

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
    const expected = await expectedRows();
    await waitFor(
      'the live projection to catch up',
      async () => JSON.stringify(await rows()) === JSON.stringify(expected),
      {
        timeoutMs: 30_000,
      },
    );
    await live.stop();
    const liveRows = await rows();
    expect(liveRows).toEqual(expected);
    expect(liveRows.length).toBe(50);

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
