import { randomBytes, randomUUID } from 'node:crypto';
import type { MessageHandler } from '@nestjs/microservices';
import {
  AppError,
  ERASED_MARKER,
  TOPICS,
  isSealed,
  parseStoredEvent,
  type EventOfType,
  type PendingEvent,
} from '@contracts';
import {
  ENTRIES_FILE,
  MANIFEST_FILE,
  generateAuditSigningKey,
  parseAuditSigningKey,
  verifyAuditExport,
} from '@libs/audit-log';
import {
  CheckpointedSubscription,
  ConversationStreams,
  DataKeyRepository,
  OutboxReader,
  PersonalDataCipher,
  PostgresEventStore,
  migrateOwnTables,
  type Principal,
} from '@libs/event-store';
import { KafkaEventServer, KafkaPublisher, OutboxRelay } from '@libs/messaging';
import { contextOf } from '@libs/conversation';
import { createLogger } from '@libs/platform';
import {
  createTenantWithKey,
  createTestDatabase,
  createTestKafka,
  started,
  target,
  understoodTurn,
  waitFor,
  type TestDatabase,
  type TestKafka,
  type TopicRecorder,
} from '@test/support';
import { AuditLogProjection, AuditLogService, buildComplianceExport } from '../audit-log';
import { ConversationSummaryProjection } from '../conversation-summaries';
import { AUDIT_TABLES } from '../migrations';
import { EraseConversationCommand, EraseConversationHandler } from './erase-conversation';

jest.setTimeout(120_000);

const logger = createLogger('erasure-test', 'silent');
const MASTER_KEY = randomBytes(32);
const key = parseAuditSigningKey(generateAuditSigningKey().privateKeyPem);
/** What the customer typed: nothing of it may be readable anywhere once sealed. */
const SECRET = `call me on 13800138000, ref ${randomUUID().slice(0, 8)}`;
const SLOT = 'ZX-48151623';

let db: TestDatabase;
let kafka: TestKafka;
let store: PostgresEventStore;
let log: AuditLogService;
let relay: OutboxRelay;
let publisher: KafkaPublisher;
let recorder: TopicRecorder;
const servers: KafkaEventServer[] = [];

/** A service's own cipher and store, as StoreModule builds them (each service has its own cache). */
function serviceStore(): { cipher: PersonalDataCipher; store: PostgresEventStore } {
  const cipher = new PersonalDataCipher(new DataKeyRepository(db.dataSource, MASTER_KEY));
  return { cipher, store: new PostgresEventStore(db.dataSource, undefined, cipher) };
}

function compliance(tenantId: string): Principal {
  return { tenant: { id: tenantId, name: tenantId }, keyId: randomUUID(), role: 'compliance' };
}

async function catchUp(): Promise<void> {
  for (const projection of [new AuditLogProjection(), new ConversationSummaryProjection()]) {
    await new CheckpointedSubscription(db.dataSource, store, projection, logger, {
      batchSize: 50,
      pollIntervalMs: 20,
    }).catchUp();
  }
}

/** A demo-like conversation: started, one whole turn (intent, slots, knowledge, reply), then a reply. */
async function converse(tenantId: string): Promise<string> {
  const conversationId = randomUUID();
  await store.append(target(tenantId, conversationId, 0), [started()]);
  const turn: PendingEvent[] = understoodTurn({
    text: SECRET,
    intent: 'order_status',
    slots: { order_id: SLOT },
    outcome: 'completed',
  });
  await store.append(target(tenantId, conversationId, 'any'), turn);
  return conversationId;
}

/** A consumer group reading the topic from the start, opening events as ConsumerModule does. */
async function replayTopic(group: string): Promise<EventOfType<'conversation.message-received.v1'>[]> {
  const { cipher } = serviceStore();
  const seen: EventOfType<'conversation.message-received.v1'>[] = [];
  const server = new KafkaEventServer({
    kafka: kafka.kafka,
    publisher,
    logger,
    topicPrefix: kafka.prefix,
    groupId: group,
    open: async (event) => (await cipher.open([event]))[0]!,
  });
  servers.push(server);
  server.addHandler(
    'conversation.message-received.v1',
    ((event: EventOfType<'conversation.message-received.v1'>) => {
      seen.push(event);
      return Promise.resolve();
    }) as MessageHandler,
    true,
  );
  await new Promise<void>((resolve, reject) => {
    void server.listen((error?: unknown) =>
      error ? reject(error instanceof Error ? error : new Error(JSON.stringify(error))) : resolve(),
    );
  });
  return seen;
}

beforeAll(async () => {
  db = await createTestDatabase('erasure');
  await migrateOwnTables(db.url, AUDIT_TABLES);
  await createTenantWithKey(db.dataSource, 'acme');
  await createTenantWithKey(db.dataSource, 'globex');
  kafka = await createTestKafka('erasure');
  await kafka.ensureTopics();
  store = serviceStore().store;
  log = new AuditLogService(db.dataSource, key, () => new Date('2026-01-02T03:04:05.678Z'));
  publisher = new KafkaPublisher(kafka.kafka, kafka.prefix);
  await publisher.connect();
  relay = new OutboxRelay(new OutboxReader(db.url, 'erasure'), publisher, logger, { pollIntervalMs: 100 });
  relay.start();
  recorder = await kafka.record(`${kafka.prefix}${TOPICS.conversationEvents}`);
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await recorder?.stop();
  await relay?.stop();
  await publisher?.disconnect();
  await kafka?.drop();
  await db?.drop();
});

describe('personal data sealed at rest, and erasure by crypto-shredding', () => {
  let conversationId: string;
  let other: string;

  it('stores and publishes the customer text sealed only; readers with the key see it as typed', async () => {
    conversationId = await converse('acme');
    other = await converse('acme');

    const rows: { type: string; payload: string }[] = await db.dataSource.query(
      `SELECT type, data::text AS payload FROM events WHERE stream_id = $1 ORDER BY sequence`,
      [conversationId],
    );
    const all = rows.map((row) => row.payload).join('\n');
    expect(all).not.toContain('13800138000');
    expect(all).not.toContain(SLOT);
    const message = rows.find((row) => row.type === 'conversation.message-received.v1')!;
    expect(isSealed((JSON.parse(message.payload) as { text: string }).text)).toBe(true);
    const keys: { wrapped: boolean; erased_at: Date | null }[] = await db.dataSource.query(
      `SELECT wrapped_key IS NOT NULL AS wrapped, erased_at FROM conversation_data_keys WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(keys).toEqual([{ wrapped: true, erased_at: null }]);

    // Another service (its own cache, the table only) reads it back exactly.
    const state = await new ConversationStreams(serviceStore().store).load({
      tenantId: 'acme',
      conversationId,
    });
    expect(contextOf(state).transcript.map((entry) => entry.text)).toContain(SECRET);

    const published = await waitFor('every event on Kafka', () => {
      const messages = recorder.messages.filter((m) => m.key === conversationId);
      return messages.length === rows.length && messages;
    });
    expect(published.map((m) => m.value).join('\n')).not.toContain('13800138000');
    expect(published.every((m) => parseStoredEvent(m.value).ok)).toBe(true);
  });

  it('erases: the key is shredded with an audited event, and every reader sees markers, never errors', async () => {
    await catchUp();
    await log.signTreeHead('acme');
    const before = await buildComplianceExport(db.dataSource, log, serviceStore().cipher, 'acme', {
      conversationId,
    });
    expect(before.files[ENTRIES_FILE]).toContain(SECRET);

    const officer = compliance('acme');
    const handler = new EraseConversationHandler(store);
    const result = await handler.execute(
      new EraseConversationCommand(officer, conversationId, 'data-subject-request', 'PIPL-2026-7'),
    );

    expect(result.status).toBe('erased');
    expect(result.erasure).toMatchObject({
      type: 'conversation.erased.v1',
      conversationId,
      data: {
        keyId: officer.keyId,
        role: 'compliance',
        reason: 'data-subject-request',
        reference: 'PIPL-2026-7',
      },
    });
    const keys: { wrapped: boolean; erased: boolean }[] = await db.dataSource.query(
      `SELECT wrapped_key IS NOT NULL AS wrapped, erased_at IS NOT NULL AS erased FROM conversation_data_keys
        WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(keys).toEqual([{ wrapped: false, erased: true }]);

    // The store, for a service that cached the key before (it reads the erasure) and for a fresh one.
    for (const reader of [store, serviceStore().store]) {
      const events = await reader.read('conversation', { tenantId: 'acme', streamId: conversationId });
      expect(events.at(-1)!.type).toBe('conversation.erased.v1');
      const text = JSON.stringify(events);
      expect(text).not.toContain('13800138000');
      expect(text).not.toContain(SLOT);
      expect(text).toContain(ERASED_MARKER);
    }
    // The replayed state: the conversation is closed, its transcript markers.
    const state = await new ConversationStreams(serviceStore().store).load({
      tenantId: 'acme',
      conversationId,
    });
    expect(contextOf(state).closedReason).toBe('erased');
    expect(contextOf(state).transcript.map((entry) => entry.text)).toEqual([ERASED_MARKER, ERASED_MARKER]);
    // Another conversation of the tenant is untouched.
    const untouched = await serviceStore().store.read('conversation', { tenantId: 'acme', streamId: other });
    expect(JSON.stringify(untouched)).toContain('13800138000');
  });

  it('writes nothing for a retry, for another tenant, or for an unknown conversation', async () => {
    const handler = new EraseConversationHandler(store);
    const version = await store.streamVersion({ tenantId: 'acme', streamId: conversationId });

    const again = await handler.execute(
      new EraseConversationCommand(compliance('acme'), conversationId, 'retention-expired', null),
    );
    expect(again.status).toBe('already-erased');
    expect(again.erasure.data.reason).toBe('data-subject-request');
    for (const [tenant, id] of [
      ['globex', conversationId],
      ['acme', randomUUID()],
    ] as const) {
      await expect(
        handler.execute(new EraseConversationCommand(compliance(tenant), id, 'data-subject-request', null)),
      ).rejects.toEqual(new AppError('conversation-not-found'));
    }
    expect(await store.streamVersion({ tenantId: 'acme', streamId: conversationId })).toBe(version);
    const globexKeys: unknown[] = await db.dataSource.query(
      `SELECT 1 FROM conversation_data_keys WHERE tenant_id = 'globex'`,
    );
    expect(globexKeys).toEqual([]);
  });

  it('a late append to the erased conversation stores markers, never the text', async () => {
    const late: PendingEvent = {
      eventId: randomUUID(),
      type: 'conversation.reply-chunk-generated.v1',
      data: { turnId: randomUUID(), attempt: 2, chunkIndex: 0, text: `late ${SECRET}` },
    };
    await serviceStore().store.append(target('acme', conversationId, 'any'), [late]);
    const [row] = await db.dataSource.query<{ payload: string }[]>(
      `SELECT data::text AS payload FROM events WHERE event_id = $1`,
      [late.eventId],
    );
    expect(row!.payload).not.toContain('13800138000');
    expect(JSON.parse(row!.payload)).toMatchObject({ text: ERASED_MARKER });
  });

  it('every proof still verifies: the log in PostgreSQL, and an export offline that shows markers', async () => {
    await catchUp();
    await log.signTreeHead('acme');
    expect(await log.verify('acme')).toMatchObject({ ok: true, unsignedEntries: 0 });
    const entries: { type: string }[] = await db.dataSource.query(
      `SELECT type FROM audit_log_entries WHERE stream_id = $1 ORDER BY index`,
      [conversationId],
    );
    expect(entries.map((entry) => entry.type)).toContain('conversation.erased.v1');

    const exported = await buildComplianceExport(db.dataSource, log, serviceStore().cipher, 'acme', {
      conversationId,
    });
    const text = exported.files[ENTRIES_FILE];
    expect(text).not.toContain('13800138000');
    expect(text).not.toContain(SLOT);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { entry: { type: string }; data: unknown; readable?: unknown });
    const message = lines.find((line) => line.entry.type === 'conversation.message-received.v1')!;
    expect(isSealed((message.data as { text: string }).text)).toBe(true);
    expect(message.readable).toMatchObject({ text: ERASED_MARKER });
    const verified = verifyAuditExport(
      {
        manifest: Buffer.from(exported.files[MANIFEST_FILE]),
        entries: Buffer.from(exported.files[ENTRIES_FILE]),
      },
      { publicKey: key.publicKey },
    );
    expect(verified).toMatchObject({ ok: true, entries: lines.length });
  });

  it('a Kafka consumer replaying the topic from the start sees no plaintext: markers once erased', async () => {
    const published = await waitFor('the erasure on Kafka', () => {
      const messages = recorder.messages.filter((m) => m.key === conversationId);
      return messages.some((m) => m.headers['event-type'] === 'conversation.erased.v1') && messages;
    });
    expect(published.map((m) => m.value).join('\n')).not.toContain('13800138000');

    const seen = await replayTopic('replay-after-erasure');
    const replayed = await waitFor('both customer messages replayed', () => {
      const events = seen.filter((event) => [conversationId, other].includes(event.conversationId));
      return events.length === 2 && events;
    });
    expect(replayed.find((event) => event.conversationId === conversationId)!.data.text).toBe(ERASED_MARKER);
    expect(replayed.find((event) => event.conversationId === other)!.data.text).toBe(SECRET);
  });
});
