import { randomUUID } from 'node:crypto';
import { CheckpointedSubscription, PostgresEventStore, migrateOwnTables } from '@libs/event-store';
import { createLogger } from '@libs/platform';
import {
  closed,
  createTenantWithKey,
  createTestDatabase,
  started,
  target,
  understoodTurn,
  type TestDatabase,
} from '@test/support';
import { ConversationSummaryProjection } from '../conversation-summaries';
import { AUDIT_TABLES } from '../migrations';
import { exportLines } from './analytics.controller';
import { csvHeader } from './analyst-views';
import { ConversationAnalyticsRepository } from './conversation-analytics.repository';

jest.setTimeout(120_000);

let db: TestDatabase;
let store: PostgresEventStore;
let repository: ConversationAnalyticsRepository;
let before: string;
const INTENTS = ['order_status', 'refund', 'other'];

/** 60 conversations in acme (intents, models, outcomes vary with i), 10 in globex. */
beforeAll(async () => {
  db = await createTestDatabase('audit_analytics');
  await migrateOwnTables(db.url, AUDIT_TABLES);
  await createTenantWithKey(db.dataSource, 'acme');
  await createTenantWithKey(db.dataSource, 'globex');
  store = new PostgresEventStore(db.dataSource);
  for (let i = 0; i < 70; i++) {
    if (i === 30) before = new Date().toISOString();
    const tenantId = i < 60 ? 'acme' : 'globex';
    const conversationId = randomUUID();
    await store.append(target(tenantId, conversationId, 0), [started()]);
    await store.append(target(tenantId, conversationId, 'any'), [
      ...understoodTurn({
        text: 'where is it',
        intent: INTENTS[i % 3]!,
        model: i % 2 === 0 ? 'qwen' : 'llama',
        outcome: 'completed',
        degraded: { keyword: i % 5 === 0, vector: false },
      }),
      ...(i % 4 === 0 ? [closed()] : []),
    ]);
  }
  const subscription = new CheckpointedSubscription(
    db.dataSource,
    store,
    new ConversationSummaryProjection(),
    createLogger('analytics-test', 'silent'),
  );
  await subscription.catchUp();
  repository = new ConversationAnalyticsRepository(db.dataSource);
});

afterAll(async () => {
  await db?.drop();
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('ConversationAnalyticsRepository', () => {
  it("filters by intent, model, outcome and time, only within the tenant's own conversations", async () => {
    const everything = await collect(repository.all('acme', {}));
    expect(everything).toHaveLength(60);
    expect(everything.every((row) => row.tenantId === 'acme')).toBe(true);
    const count = async (filter: Parameters<ConversationAnalyticsRepository['page']>[1]) =>
      (await repository.page('acme', filter, 500)).rows.length;
    expect(await count({ intent: 'refund' })).toBe(20);
    expect(await count({ model: 'llama' })).toBe(30);
    expect(await count({ status: 'closed', closedReason: 'resolved' })).toBe(15);
    expect(await count({ status: 'open' })).toBe(45);
    expect(await count({ handedOff: false })).toBe(60);
    expect(await count({ handedOff: true })).toBe(0);
    expect(await count({ to: before })).toBe(30);
    expect(await count({ from: before, intent: 'order_status' })).toBe(10);
    expect((await repository.page('globex', { intent: 'refund' }, 500)).rows).toHaveLength(3);
    expect((await repository.page('initech', {}, 500)).rows).toHaveLength(0);
  });

  it('pages by cursor: the pages, joined, are the whole list in start order, each row once', async () => {
    const pages = [];
    let page = await repository.page('acme', {}, 7);
    pages.push(page.rows);
    while (page.next) {
      page = await repository.page('acme', {}, 7, page.next);
      pages.push(page.rows);
    }
    expect(pages.length).toBe(9);
    const joined = pages.flat();
    expect(joined).toEqual(await collect(repository.all('acme', {})));
    expect(new Set(joined.map((row) => row.conversationId)).size).toBe(60);
    const starts = joined.map((row) => row.startedAt);
    expect([...starts].sort()).toEqual(starts);
  });

  it('aggregates per day and intent add up to the conversations', async () => {
    const aggregates = await repository.aggregates('acme', {});
    expect(aggregates.map((row) => row.intent).sort()).toEqual(['order_status', 'other', 'refund']);
    expect(aggregates.reduce((sum, row) => sum + row.conversations, 0)).toBe(60);
    expect(aggregates.reduce((sum, row) => sum + row.resolved, 0)).toBe(15);
    expect(aggregates.reduce((sum, row) => sum + row.retrievalsDegraded, 0)).toBe(12);
    expect(aggregates.every((row) => row.turnsCompleted === row.conversations)).toBe(true);
    expect(aggregates.every((row) => row.avgLatencyMs !== null && row.avgLatencyMs >= 0)).toBe(true);
  });

  it('exports stream: a page is read only when the reader needs it, and the lines are every row', async () => {
    const reads: string[] = [];
    const counting = new ConversationAnalyticsRepository({
      query: (sql: string, params?: unknown[]) => {
        reads.push(sql);
        return db.dataSource.query(sql, params);
      },
    });
    const lines = exportLines(counting.all('acme', {}, 25), 'jsonl');
    const first = await lines.next();
    expect(first.done).toBe(false);
    expect(reads).toHaveLength(1); // 25 rows in hand, the other 35 not read yet
    const rest = await collect(lines);
    expect(reads).toHaveLength(3);
    const exported = [first.value as string, ...rest].map(
      (line) => JSON.parse(line) as { conversationId: string },
    );
    const listed = await collect(repository.all('acme', {}));
    expect(exported.map((row) => row.conversationId)).toEqual(listed.map((row) => row.conversationId));

    const csv = await collect(exportLines(repository.all('acme', { intent: 'refund' }), 'csv'));
    expect(csv[0]).toBe(csvHeader());
    expect(csv).toHaveLength(21);
  });
});
