import { randomUUID } from 'node:crypto';
import { EVENT_HEADERS, TOPICS, type ConversationEvent, type PendingEvent } from '@contracts';
import { InboxRepository, OutboxReader, PostgresEventStore } from '@libs/event-store';
import { KafkaPublisher, OutboxRelay } from '@libs/messaging';
import {
  createTenantWithKey,
  createTestDatabase,
  createTestKafka,
  holdsFor,
  messageReceived,
  started,
  target,
  waitFor,
  type ReceivedMessage,
  type TestDatabase,
  type TestKafka,
  type TopicRecorder,
} from '@test/support';

jest.setTimeout(90_000);

const TENANT = 'acme';

let db: TestDatabase;
let kafka: TestKafka;
let store: PostgresEventStore;
let recorder: TopicRecorder;
/** Everything a test started, stopped after it even when it fails half-way. */
let running: { relays: OutboxRelay[]; publishers: KafkaPublisher[] };

beforeAll(async () => {
  db = await createTestDatabase('outbox_relay');
  kafka = await createTestKafka('outbox-relay');
  await kafka.ensureTopics();
  await createTenantWithKey(db.dataSource, TENANT);
  store = new PostgresEventStore(db.dataSource);
  recorder = await kafka.record(`${kafka.prefix}${TOPICS.conversationEvents}`);
});

afterAll(async () => {
  await recorder?.stop();
  await kafka?.drop();
  await db?.drop();
});

beforeEach(() => {
  running = { relays: [], publishers: [] };
});

afterEach(async () => {
  for (const relay of running.relays) await relay.stop();
  for (const publisher of running.publishers) await publisher.disconnect();
});

async function startRelay(
  name: string,
  options: { batchSize?: number; pollIntervalMs?: number } = {},
): Promise<OutboxRelay> {
  const publisher = new KafkaPublisher(kafka.kafka, kafka.prefix);
  running.publishers.push(publisher);
  await publisher.connect();
  const relay = new OutboxRelay(
    new OutboxReader(db.url, name),
    publisher,
    kafka.logger.child({ relay: name }),
    {
      pollIntervalMs: 200,
      ...options,
    },
  );
  running.relays.push(relay);
  relay.start();
  return relay;
}

async function stopRelay(relay: OutboxRelay): Promise<void> {
  running.relays = running.relays.filter((other) => other !== relay);
  await relay.stop();
}

async function newConversation(
  events: PendingEvent[] = [started(), messageReceived('hello')],
): Promise<string> {
  const conversationId = randomUUID();
  await store.append(target(TENANT, conversationId, 0), events);
  return conversationId;
}

async function outboxSize(): Promise<number> {
  const rows: { n: number }[] = await db.dataSource.query(`SELECT count(*)::int AS n FROM outbox`);
  return rows[0]?.n ?? 0;
}

/** The messages recorded so far for these conversations, in the order the topic holds them. */
function messagesOf(conversationIds: string[]): ReceivedMessage[] {
  const wanted = new Set(conversationIds);
  return recorder.messages.filter((message) => message.key !== null && wanted.has(message.key));
}

function eventOf(message: ReceivedMessage): ConversationEvent {
  return JSON.parse(message.value ?? 'null') as ConversationEvent;
}

async function storedEvents(conversationIds: string[]): Promise<ConversationEvent[]> {
  return (
    await Promise.all(
      conversationIds.map((id) => store.read('conversation', { tenantId: TENANT, streamId: id })),
    )
  ).flat();
}

function waitForPublished(conversationIds: string[], count: number, what = `${count} messages`) {
  return waitFor(what, () => {
    const messages = messagesOf(conversationIds);
    return messages.length >= count ? messages : undefined;
  });
}

/** Sessions of this suite's database holding the relay's advisory lock, seen by PostgreSQL itself. */
async function advisoryLockHolders(): Promise<string[]> {
  const rows: { application_name: string }[] = await db.dataSource.query(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = $1)`,
    [db.name],
  );
  return rows.map((row) => row.application_name);
}

async function lockHolderPids(): Promise<number[]> {
  const rows: { pid: number }[] = await db.dataSource.query(
    `SELECT l.pid FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = $1)`,
    [db.name],
  );
  return rows.map((row) => row.pid);
}

describe('OutboxRelay with real PostgreSQL and Kafka', () => {
  it('publishes appended events keyed by conversation, in sequence order per conversation, and empties the outbox', async () => {
    // Interleaved appends across three conversations, more events than one batch.
    const a = await newConversation([started(), messageReceived('a1')]);
    const b = await newConversation([started()]);
    await store.append(target(TENANT, a, 2), [messageReceived('a2'), messageReceived('a3')]);
    const c = await newConversation([started(), messageReceived('c1'), messageReceived('c2')]);
    await store.append(target(TENANT, b, 1), [messageReceived('b1')]);
    await store.append(target(TENANT, a, 'any'), [messageReceived('a4')]);
    const conversations = [a, b, c];
    const stored = await storedEvents(conversations);
    expect(stored).toHaveLength(10);

    await startRelay('relay-order', { batchSize: 5 });

    const messages = await waitForPublished(conversations, stored.length);
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);
    // Nothing more arrives: each event was published once.
    await holdsFor('no further messages', () => messagesOf(conversations).length === stored.length, {
      durationMs: 1_000,
    });

    for (const message of messages) {
      const event = eventOf(message);
      expect(message.key).toBe(event.conversationId);
      expect(message.headers).toEqual({
        [EVENT_HEADERS.type]: event.type,
        [EVENT_HEADERS.tenantId]: TENANT,
        [EVENT_HEADERS.eventId]: event.eventId,
      });
    }
    // What is on the topic is exactly what is stored, envelope for envelope.
    const byId = new Map(messages.map((message) => [eventOf(message).eventId, eventOf(message)]));
    expect(stored.map((event) => byId.get(event.eventId))).toEqual(stored);

    for (const conversationId of conversations) {
      const own = messages.filter((message) => message.key === conversationId);
      // One partition per conversation, and within it offsets follow the stream's sequence.
      expect(new Set(own.map((message) => message.partition)).size).toBe(1);
      const byOffset = [...own].sort((x, y) => Number(BigInt(x.offset) - BigInt(y.offset)));
      expect(byOffset.map((message) => eventOf(message).sequence)).toEqual(own.map((_, index) => index + 1));
    }
  });

  it('is woken by every append at once, without waiting for its poll interval', async () => {
    await startRelay('relay-notify', { pollIntervalMs: 60_000 });
    const warmUp = await newConversation();
    await waitForPublished([warmUp], 2, 'the warm-up conversation');
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);

    // The relay is now asleep for a minute; only the NOTIFY of the append can wake it. Each next append
    // follows the previous publication closely, so it often lands while the relay is still finishing
    // that batch: the wake-up must not be lost then either.
    for (let round = 0; round < 10; round++) {
      const appendedAt = Date.now();
      const conversationId = await newConversation();
      await waitFor(`conversation ${round} on Kafka`, () => messagesOf([conversationId]).length === 2, {
        timeoutMs: 10_000,
        intervalMs: 2,
      });
      expect(Date.now() - appendedAt).toBeLessThan(10_000);
    }
  });

  it('keeps per-conversation order while many writers append concurrently, and a clean stop leaves nothing to publish again', async () => {
    const relay = await startRelay('relay-concurrent', { batchSize: 7 });
    const conversations = await Promise.all(Array.from({ length: 6 }, () => newConversation([started()])));
    const perConversation = 15;

    // Each writer appends its conversation's messages one after another while the others do the same.
    await Promise.all(
      conversations.map(async (conversationId) => {
        for (let index = 0; index < perConversation; index++) {
          await store.append(target(TENANT, conversationId, 'any'), [messageReceived(`m${index}`)]);
        }
      }),
    );
    const total = conversations.length * (perConversation + 1);

    const messages = await waitForPublished(conversations, total);
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);

    for (const conversationId of conversations) {
      const own = messages
        .filter((message) => message.key === conversationId)
        .sort((x, y) => Number(BigInt(x.offset) - BigInt(y.offset)));
      expect(own.map((message) => eventOf(message).sequence)).toEqual(
        Array.from({ length: perConversation + 1 }, (_, index) => index + 1),
      );
    }

    await stopRelay(relay);
    expect(await outboxSize()).toBe(0);
    await startRelay('relay-after-stop');
    const later = await newConversation();
    await waitForPublished([later], 2, 'the next relay publishing');
    expect(messagesOf(conversations)).toHaveLength(total);
  });

  it('lets exactly one of two relays publish, and the other takes over when the leader stops', async () => {
    const first = await startRelay('relay-one');
    const second = await startRelay('relay-two');

    const leader = await waitFor('one relay to lead', () =>
      first.isLeader ? first : second.isLeader ? second : undefined,
    );
    const follower = leader === first ? second : first;
    const leaderName = leader === first ? 'relay-one' : 'relay-two';
    await holdsFor(
      'exactly one leader',
      async () => [first, second].filter((relay) => relay.isLeader).length === 1,
      { durationMs: 1_000 },
    );
    expect(await advisoryLockHolders()).toEqual([leaderName]);

    const before = [await newConversation(), await newConversation()];
    await waitForPublished(before, 4, 'events appended under the first leader');
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);
    await holdsFor('each event published once', () => messagesOf(before).length === 4, { durationMs: 500 });

    await stopRelay(leader);
    const after = [await newConversation(), await newConversation()];

    await waitForPublished(after, 4, 'events appended after the leader stopped');
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);
    expect(follower.isLeader).toBe(true);
    expect(await advisoryLockHolders()).toEqual([leaderName === 'relay-one' ? 'relay-two' : 'relay-one']);
    await holdsFor('each event published once', () => messagesOf([...before, ...after]).length === 8, {
      durationMs: 500,
    });
  });

  it("hands leadership over when the leader's database session dies, and keeps publishing", async () => {
    const first = await startRelay('relay-crash-one');
    const second = await startRelay('relay-crash-two');
    await waitFor('one relay to lead', () => first.isLeader || second.isLeader);
    const [holder] = await lockHolderPids();

    // What a crashed process looks like to PostgreSQL: its session ends and the lock is released.
    const [{ terminated }] = await db.dataSource.query(`SELECT pg_terminate_backend($1) AS terminated`, [
      holder,
    ]);
    expect(terminated).toBe(true);
    const conversationId = await newConversation();

    await waitForPublished([conversationId], 2, 'events appended after the crash');
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);
    const [newHolder] = await waitFor('exactly one leader again', async () => {
      const pids = await lockHolderPids();
      return pids.length === 1 ? pids : undefined;
    });
    expect(newHolder).not.toBe(holder);
    await waitFor(
      'the relays to agree on the leader',
      () => [first, second].filter((r) => r.isLeader).length === 1,
    );
  });

  it('republishes a batch that was published but not deleted before a crash (at least once), and consumers de-duplicate', async () => {
    // Make the delete after publishing fail, as if the process died between the two.
    await db.dataSource.query(`
      CREATE FUNCTION refuse_outbox_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated crash before the outbox delete'; END $$`);
    await db.dataSource.query(
      `CREATE TRIGGER refuse_outbox_delete BEFORE DELETE ON outbox FOR EACH STATEMENT EXECUTE FUNCTION refuse_outbox_delete()`,
    );
    const conversations = [await newConversation(), await newConversation()];
    const stored = await storedEvents(conversations);
    // A long poll interval: after the failed delete the relay sleeps instead of publishing again.
    const crashed = await startRelay('relay-before-crash', { pollIntervalMs: 60_000 });
    try {
      await waitForPublished(conversations, stored.length, 'the first publication');
      expect(await outboxSize()).toBe(stored.length);
      await stopRelay(crashed);
    } finally {
      await db.dataSource.query(`DROP TRIGGER refuse_outbox_delete ON outbox`);
      await db.dataSource.query(`DROP FUNCTION refuse_outbox_delete`);
    }

    await startRelay('relay-after-restart');

    const messages = await waitForPublished(conversations, stored.length * 2, 'the republication');
    await waitFor('the outbox to be emptied', async () => (await outboxSize()) === 0);
    await holdsFor('no third copy', () => messagesOf(conversations).length === stored.length * 2, {
      durationMs: 1_000,
    });
    for (const event of stored) {
      expect(messages.filter((message) => eventOf(message).eventId === event.eventId)).toHaveLength(2);
    }
    // Per conversation the second copy follows the first in full: order holds across the redelivery.
    for (const conversationId of conversations) {
      const sequences = messages
        .filter((message) => message.key === conversationId)
        .sort((x, y) => Number(BigInt(x.offset) - BigInt(y.offset)))
        .map((message) => eventOf(message).sequence);
      expect(sequences).toEqual([1, 2, 1, 2]);
    }

    // A consumer that de-duplicates by event id applies each event exactly once.
    const inbox = new InboxRepository(db.dataSource);
    const applied: string[] = [];
    for (const message of messages) {
      const event = eventOf(message);
      await inbox.once('relay-test-consumer', event.eventId, async () => {
        applied.push(event.eventId);
      });
    }
    expect(applied.sort()).toEqual(stored.map((event) => event.eventId).sort());
  });
});
