/**
 * Canary routing on the inference service as deployed: the real service process, PostgreSQL and Kafka,
 * and two fixed-latency model servers (bench/fixed-latency-model), one the primary and one the canary,
 * each answering under its own model name. The tenant's split is 50%: the conversations whose hash
 * falls below it are answered by the canary, every turn of a conversation by the same model; then the
 * split file is edited to 0% (a roll back, no restart) and every conversation goes back to the primary.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixedLatencyServer } from '@bench/fixed-latency-model';
import type { PendingEvent } from '@contracts';
import { PostgresEventStore } from '@libs/event-store';
import {
  ServiceProcesses,
  createTenantWithKey,
  createTestDatabase,
  createTestKafka,
  waitFor,
  type TestDatabase,
  type TestKafka,
} from '@test/support';

jest.setTimeout(300_000);

const TENANT = 'canary-tenant';
const CONVERSATIONS = 24;
const PRIMARY_MODEL = 'stable-model';
const CANARY_MODEL = 'candidate-model';
const basePort = Number(process.env.E2E_BASE_PORT ?? 4100);

const primary = createFixedLatencyServer({
  ttftMs: 20,
  tokensPerSecond: 200,
  replyTokens: 6,
  model: PRIMARY_MODEL,
});
const canary = createFixedLatencyServer({
  ttftMs: 20,
  tokensPerSecond: 200,
  replyTokens: 6,
  model: CANARY_MODEL,
});
const splitFile = join(mkdtempSync(join(tmpdir(), 'canary-e2e-')), 'split.json');
let db: TestDatabase;
let kafka: TestKafka;
let services: ServiceProcesses;
let store: PostgresEventStore;

/** Fixed conversation ids (a UUID shaped from a hash of the index): the canary set is the same every run. */
function conversationId(index: number): string {
  const hex = createHash('sha256').update(`canary-e2e-${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The documented split rule, restated: the first 4 bytes of SHA-256(conversation id), mod 10,000, below percent × 100. */
function inCanaryAt(percent: number, id: string): boolean {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % 10_000 < percent * 100;
}

async function listen(server: typeof primary.server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

function append(id: string, expectedVersion: number | 'any', events: PendingEvent[]): Promise<unknown> {
  return store.append(
    {
      tenantId: TENANT,
      streamId: id,
      kind: 'conversation',
      expectedVersion,
      causationId: null,
      correlationId: randomUUID(),
    },
    events,
  );
}

/** A customer message and the request to answer it, as sessions would append them. */
function turnEvents(text: string): PendingEvent[] {
  const messageId = randomUUID();
  return [
    { eventId: randomUUID(), type: 'conversation.message-received.v1', data: { messageId, text } },
    {
      eventId: randomUUID(),
      type: 'conversation.reply-requested.v1',
      data: {
        turnId: randomUUID(),
        inReplyTo: [messageId],
        prompt: [
          { role: 'system', content: 'You are a helpful customer-service assistant.' },
          { role: 'user', content: text },
        ],
        maxTokens: 6,
      },
    },
  ];
}

interface Completion {
  stream_id: string;
  model: string;
  backends: string[];
}

/** The completions of every conversation, each conversation's in stream order. */
async function completions(): Promise<Completion[]> {
  const rows: { stream_id: string; data: { model: string; parts: { backend: string }[] } }[] =
    await db.dataSource.query(
      `SELECT stream_id, data FROM events WHERE type = 'conversation.reply-completed.v2' ORDER BY stream_id, sequence`,
    );
  return rows.map((row) => ({
    stream_id: row.stream_id,
    model: row.data.model,
    backends: row.data.parts.map((part) => part.backend),
  }));
}

async function failures(): Promise<number> {
  const rows: unknown[] = await db.dataSource.query(
    `SELECT 1 FROM events WHERE type = 'conversation.reply-failed.v1'`,
  );
  return rows.length;
}

/** Asks every conversation one more turn and waits until all are answered. */
async function nextTurn(turn: number): Promise<Completion[]> {
  for (const id of ids) await append(id, 'any', turnEvents(`turn ${turn} of ${id}`));
  const all = await waitFor(
    `${turn} completions per conversation`,
    async () => {
      const rows = await completions();
      return rows.length >= ids.length * turn && rows;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  expect(await failures()).toBe(0);
  return all;
}

/** The model that answered each conversation's turn `turn` (1-based). */
function modelsAtTurn(all: Completion[], turn: number): Map<string, string> {
  const byConversation = new Map<string, Completion[]>();
  for (const row of all)
    byConversation.set(row.stream_id, [...(byConversation.get(row.stream_id) ?? []), row]);
  return new Map(ids.map((id) => [id, byConversation.get(id)?.[turn - 1]?.model ?? 'none']));
}

async function metricsText(): Promise<string> {
  const response = await fetch(`${services.url('inference')}/metrics`);
  return response.text();
}

/** The value of the series `name` whose labels include all of `labels` (0 when absent). */
function seriesValue(text: string, name: string, labels: Record<string, string>): number {
  const line = text
    .split('\n')
    .find(
      (candidate) =>
        candidate.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const ids = Array.from({ length: CONVERSATIONS }, (_, index) => conversationId(index));

beforeAll(async () => {
  for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', 'EMBEDDINGS_BASE_URL']) {
    if (!process.env[key]) throw new Error(`${key} is not set: source ~/.cache/convo-engine/stack.env`);
  }
  const [primaryUrl, canaryUrl] = [await listen(primary.server), await listen(canary.server)];
  writeFileSync(splitFile, JSON.stringify({ default: 0, tenants: { [TENANT]: 50 } }));
  db = await createTestDatabase('e2e-canary');
  kafka = await createTestKafka('e2e-canary');
  await kafka.ensureTopics();
  await createTenantWithKey(db.dataSource, TENANT);
  store = new PostgresEventStore(db.dataSource);
  services = new ServiceProcesses(
    {
      ...process.env,
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: kafka.prefix,
      KAFKA_SESSION_TIMEOUT_MS: '8000',
      LLM_BASE_URL: primaryUrl,
      LLM_MODEL: PRIMARY_MODEL,
      LLM_API_KEY: 'none',
      LLM_FALLBACK_BASE_URL: '',
      LLM_FALLBACK_TENANTS: '',
      LLM_CANARY_BASE_URL: canaryUrl,
      LLM_CANARY_MODEL: CANARY_MODEL,
      LLM_CANARY_API_KEY: 'none',
      LLM_CANARY_SPLIT_FILE: splitFile,
      LLM_CANARY_SPLIT_POLL_MS: '100',
    },
    basePort,
    `${process.env.HOME}/.cache/convo-engine/logs/e2e-${kafka.prefix}`,
  );
  services.start('inference');
  await services.waitReady('inference');
  for (const id of ids) {
    await append(id, 0, [
      {
        eventId: randomUUID(),
        type: 'conversation.started.v2',
        data: { channel: 'web', locale: 'en-US', labels: {}, configVersion: 0 },
      },
    ]);
  }
});

afterAll(async () => {
  await services?.stopAll();
  await db?.drop();
  await kafka?.drop();
  await Promise.all([primary, canary].map(({ server }) => new Promise((resolve) => server.close(resolve))));
});

describe('a 50% canary', () => {
  it('answers the same half of the conversations every turn, shows per-model metrics, and rolls back by configuration', async () => {
    const expectedCanary = new Set(ids.filter((id) => inCanaryAt(50, id)));
    // The fixed ids put about half in the canary (a property of these ids, the same every run).
    expect(expectedCanary.size).toBeGreaterThanOrEqual(CONVERSATIONS * 0.4);
    expect(expectedCanary.size).toBeLessThanOrEqual(CONVERSATIONS * 0.6);

    await nextTurn(1);
    const all = await nextTurn(2);
    for (const turn of [1, 2]) {
      const models = modelsAtTurn(all, turn);
      for (const id of ids)
        expect([id, models.get(id)]).toEqual([id, expectedCanary.has(id) ? CANARY_MODEL : PRIMARY_MODEL]);
    }
    // The completion names the canary backend as the author of the text.
    for (const row of all) expect(row.backends).toEqual([row.model === CANARY_MODEL ? 'canary' : 'primary']);
    // Each server saw exactly its conversations' turns.
    expect(canary.stats.length).toBe(expectedCanary.size * 2);
    expect(primary.stats.length).toBe((CONVERSATIONS - expectedCanary.size) * 2);

    const text = await metricsText();
    const canaryOut = { backend: 'canary', model: CANARY_MODEL, direction: 'out' };
    const primaryOut = { backend: 'primary', model: PRIMARY_MODEL, direction: 'out' };
    expect(seriesValue(text, 'convo_model_tokens_total', canaryOut)).toBeGreaterThan(0);
    expect(seriesValue(text, 'convo_model_tokens_total', primaryOut)).toBeGreaterThan(0);
    expect(seriesValue(text, 'convo_model_calls_total', { model: CANARY_MODEL, outcome: 'ok' })).toBe(
      expectedCanary.size * 2,
    );
    expect(seriesValue(text, 'convo_model_calls_total', { model: PRIMARY_MODEL, outcome: 'ok' })).toBe(
      (CONVERSATIONS - expectedCanary.size) * 2,
    );
    expect(seriesValue(text, 'convo_canary_routes_total', { route: 'canary' })).toBe(expectedCanary.size * 2);
    expect(seriesValue(text, 'convo_model_first_token_seconds_count', { model: CANARY_MODEL })).toBe(
      expectedCanary.size * 2,
    );

    // Roll back: the split file goes to 0%; once reloaded, every conversation's next turn is the primary's.
    writeFileSync(splitFile, JSON.stringify({ default: 0, tenants: { [TENANT]: 0 } }));
    await waitFor(
      'the split reloaded',
      async () => seriesValue(await metricsText(), 'convo_canary_split_loads', {}) >= 2 || undefined,
      {
        timeoutMs: 20_000,
        intervalMs: 100,
      },
    );
    const models = modelsAtTurn(await nextTurn(3), 3);
    for (const id of ids) expect([id, models.get(id)]).toEqual([id, PRIMARY_MODEL]);
  });
});
