/**
 * A burst on the inference service as deployed: the real service process, real PostgreSQL and Kafka,
 * and a real OpenAI-compatible model server of known latency (bench/fixed-latency-model) that counts
 * the completions open at once. Fifty conversations of two tenants ask for a reply at once on 4 slots.
 * They all share one Kafka partition, so any head-of-line blocking in the consumer would show: the first
 * conversation of the partition gets a long reply, and every other one must be answered meanwhile.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { createFixedLatencyServer, type RequestStat } from '@bench/fixed-latency-model';
import { TOPIC_PARTITIONS, TOPICS, type PendingEvent } from '@contracts';
import { PostgresEventStore } from '@libs/event-store';
import { topicName } from '@libs/messaging';
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

const SLOTS = 4;
const TENANT_A = 'burst-a';
const TENANT_B = 'burst-b';
/** Tenant A's burst arrives first and is the larger one; B's follows at once. */
const CONVERSATIONS_A = 35;
const CONVERSATIONS_B = 15;
/** Replies of 8 tokens take 0.2 s + 7 × 50 ms; the head of the partition asks for 600 (about 30 s). */
const SHORT_REPLY_TOKENS = 8;
const LONG_REPLY_TOKENS = 600;
const basePort = Number(process.env.E2E_BASE_PORT ?? 4100);

interface Burst {
  tenantId: string;
  conversationId: string;
  turnId: string;
  /** The customer's message: the model server's stats are keyed by it. */
  key: string;
  maxTokens: number;
}

const model = createFixedLatencyServer({
  ttftMs: 200,
  tokensPerSecond: 20,
  replyTokens: LONG_REPLY_TOKENS,
  model: 'fixed-latency',
});
let db: TestDatabase;
let kafka: TestKafka;
let services: ServiceProcesses;

/** Conversation ids whose Kafka key lands on partition 0, as the relay's producer (murmur2) places it. */
function idsOnOnePartition(count: number): string[] {
  const partitions = TOPIC_PARTITIONS[TOPICS.conversationEvents];
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  })) as PartitionerArgs['partitionMetadata'];
  const partitionOf = Partitioners.DefaultPartitioner();
  const ids: string[] = [];
  while (ids.length < count) {
    const id = randomUUID();
    if (partitionOf({ topic: 'any', partitionMetadata, message: { key: id, value: null } }) === 0)
      ids.push(id);
  }
  return ids;
}

function burstOf(): Burst[] {
  const ids = idsOnOnePartition(CONVERSATIONS_A + CONVERSATIONS_B);
  return ids.map((conversationId, index) => {
    const tenantId = index < CONVERSATIONS_A ? TENANT_A : TENANT_B;
    return {
      tenantId,
      conversationId,
      turnId: randomUUID(),
      key: `${tenantId} #${index}`,
      maxTokens: index === 0 ? LONG_REPLY_TOKENS : SHORT_REPLY_TOKENS,
    };
  });
}

/** A conversation that has a customer message and asks for a reply, as sessions would leave it. */
function conversationEvents(burst: Burst): PendingEvent[] {
  const messageId = randomUUID();
  return [
    {
      eventId: randomUUID(),
      type: 'conversation.started.v2',
      data: { channel: 'web', locale: 'en-US', labels: {}, configVersion: 0 },
    },
    { eventId: randomUUID(), type: 'conversation.message-received.v1', data: { messageId, text: burst.key } },
    {
      eventId: randomUUID(),
      type: 'conversation.reply-requested.v1',
      data: {
        turnId: burst.turnId,
        inReplyTo: [messageId],
        prompt: [
          { role: 'system', content: 'You are a helpful customer-service assistant.' },
          { role: 'user', content: burst.key },
        ],
        maxTokens: burst.maxTokens,
      },
    },
  ];
}

async function outcomes(): Promise<{ stream_id: string; type: string }[]> {
  return db.dataSource.query(
    `SELECT stream_id, type FROM events
      WHERE type IN ('conversation.reply-completed.v2', 'conversation.reply-failed.v1')`,
  );
}

beforeAll(async () => {
  for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', 'EMBEDDINGS_BASE_URL']) {
    if (!process.env[key])
      throw new Error(`${key} is not set: run through \`npm test\`, which starts the stack`);
  }
  await new Promise<void>((resolve) => model.server.listen(0, '127.0.0.1', resolve));
  const modelPort = (model.server.address() as AddressInfo).port;
  db = await createTestDatabase('e2e-burst');
  kafka = await createTestKafka('e2e-burst');
  await kafka.ensureTopics();
  for (const tenant of [TENANT_A, TENANT_B]) await createTenantWithKey(db.dataSource, tenant);
  services = new ServiceProcesses(
    {
      ...process.env,
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: kafka.prefix,
      KAFKA_SESSION_TIMEOUT_MS: '8000',
      LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
      LLM_MODEL: 'fixed-latency',
      LLM_API_KEY: 'none',
      LLM_SLOTS: String(SLOTS),
      // One backend: every call in flight is on the server this test watches.
      LLM_FALLBACK_BASE_URL: '',
      LLM_FALLBACK_TENANTS: '',
      // One database connection: the replies' state is loaded in the order Kafka delivered the requests,
      // so each tenant's calls reach the dispatcher in the order Kafka delivered them.
      DATABASE_POOL_SIZE: '1',
    },
    basePort,
    `${process.env.HOME}/.cache/convo-engine/logs/e2e-${kafka.prefix}`,
  );
  services.start('inference');
  await services.waitReady('inference');
});

afterAll(async () => {
  await services?.stopAll();
  await db?.drop();
  await kafka?.drop();
  await new Promise((resolve) => model.server.close(resolve));
});

describe('a burst of 50 conversations on 4 model slots', () => {
  it('answers every one, keeps 4 calls in flight, is fair between tenants and never blocks a partition', async () => {
    const burst = burstOf();
    const store = new PostgresEventStore(db.dataSource);
    // In order: tenant A's 35 requests, then tenant B's 15, each a conversation of its own.
    for (const conversation of burst) {
      await store.append(
        {
          tenantId: conversation.tenantId,
          streamId: conversation.conversationId,
          kind: 'conversation',
          expectedVersion: 0,
          causationId: null,
          correlationId: randomUUID(),
        },
        conversationEvents(conversation),
      );
    }

    const ended = await waitFor(
      'an outcome for all 50 turns',
      async () => {
        const rows = await outcomes();
        return rows.length >= burst.length && rows;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );

    // Nothing lost or failed: one completion per conversation.
    expect(ended.filter((row) => row.type === 'conversation.reply-failed.v1')).toEqual([]);
    expect(new Set(ended.map((row) => row.stream_id))).toEqual(
      new Set(burst.map((conversation) => conversation.conversationId)),
    );
    // They did share one partition: every message of the topic is on partition 0.
    const offsets = await kafkaOffsets();
    expect(
      offsets.filter((partition) => partition.messages > 0).map((partition) => partition.partition),
    ).toEqual([0]);

    const { concurrency, stats: requests } = model;
    // Model calls in flight reached the slots' number and never more.
    expect(concurrency.max).toBe(SLOTS);
    // Each conversation called the model once, and saw its reply through.
    expect(requests.map((request) => request.key).sort()).toEqual(burst.map((c) => c.key).sort());
    expect(requests.filter((request) => request.aborted || request.endedAt === null)).toEqual([]);

    const started = [...requests].sort((a, b) => a.arrivedAt - b.arrivedAt).map((request) => request.key);
    const keysOf = (tenantId: string) =>
      burst
        .filter((conversation) => conversation.tenantId === tenantId)
        .map((conversation) => conversation.key);
    // The queue drains in order within each tenant. Calls that start at the same instant (slots freed
    // together) may reach the server in either order, and at most SLOTS start together: so each call
    // arrives within SLOTS places of its place in its tenant's queue.
    for (const tenantId of [TENANT_A, TENANT_B]) {
      const queue = keysOf(tenantId);
      const arrived = started.filter((key) => key.startsWith(tenantId));
      expect(arrived.toSorted()).toEqual(queue.toSorted());
      const displacements = arrived.map((key, place) => Math.abs(place - queue.indexOf(key)));
      expect(Math.max(...displacements)).toBeLessThan(SLOTS);
    }
    // ...and fairly between them: B's burst came after all of A's, yet all of B is served before A's queue
    // drains (first come, first served would start B's first call after A's last).
    const firstB = started.findIndex((key) => key.startsWith(TENANT_B));
    const lastA = started.findLastIndex((key) => key.startsWith(TENANT_A));
    const lastB = started.findLastIndex((key) => key.startsWith(TENANT_B));
    expect(firstB).toBeLessThan(lastA);
    expect(lastB).toBeLessThan(lastA);

    // No head-of-line blocking: the partition's first conversation was still generating while every
    // other conversation of its partition was answered.
    const head = requests.find((request) => request.key === burst[0]?.key) as RequestStat;
    const others = requests.filter((request) => request !== head);
    expect(Math.max(...others.map((request) => request.endedAt as number))).toBeLessThan(
      head.endedAt as number,
    );
  });
});

async function kafkaOffsets(): Promise<{ partition: number; messages: number }[]> {
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topicName(kafka.prefix, TOPICS.conversationEvents));
    return offsets.map((offset) => ({
      partition: offset.partition,
      messages: Number(offset.high) - Number(offset.low),
    }));
  } finally {
    await admin.disconnect();
  }
}
