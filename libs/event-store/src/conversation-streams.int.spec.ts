import { randomUUID } from 'node:crypto';
import { AppError, type EventOfType } from '@contracts';
import { DerivedIds, contextOf, decide, statusOf } from '@libs/conversation';
import { ConversationStreams, PostgresEventStore, streamRef, type ConversationRef } from '@libs/event-store';
import { createTenantWithKey, createTestDatabase, type TestDatabase } from '@test/support';

jest.setTimeout(60_000);

const TENANT = 'acme';
/**
 * execute() retries a conflict up to 8 times, and each lost race means another writer landed, so
 * up to 8 writers on one conversation must all succeed, whatever the timing: not a flaky number.
 */
const PARALLEL = 8;
/** Beyond the retry budget some writers may give up (409, retryable); none may be lost or doubled. */
const HEAVY = 24;

let db: TestDatabase;
let store: PostgresEventStore;
let streams: ConversationStreams;

beforeAll(async () => {
  db = await createTestDatabase('conversation_streams');
  await createTenantWithKey(db.dataSource, TENANT);
  store = new PostgresEventStore(db.dataSource);
  streams = new ConversationStreams(store);
});

afterAll(async () => {
  await db?.drop();
});

async function startConversation(): Promise<ConversationRef> {
  const ref = { tenantId: TENANT, conversationId: randomUUID() };
  const eventId = randomUUID();
  await streams.execute(ref, { causationId: null, correlationId: eventId }, (state) =>
    decide(
      {
        type: 'start-conversation',
        eventId,
        data: { channel: 'web', locale: null, labels: {}, configVersion: 0 },
      },
      state,
    ),
  );
  return ref;
}

/** What the gateway does for POST /messages: the event id is derived from the message id. */
function receiveMessage(ref: ConversationRef, messageId: string, text: string) {
  const eventId = DerivedIds.messageReceived(messageId);
  return streams.execute(ref, { causationId: null, correlationId: eventId }, (state) =>
    decide({ type: 'receive-message', eventId, messageId, text }, state),
  );
}

describe('ConversationStreams.execute under real concurrency', () => {
  it(`lands ${PARALLEL} parallel messages on one conversation exactly once each, without gaps`, async () => {
    const ref = await startConversation();
    const messages = Array.from({ length: PARALLEL }, (_, index) => ({
      id: randomUUID(),
      text: `message ${index}`,
    }));

    const results = await Promise.allSettled(
      messages.map((message) => receiveMessage(ref, message.id, message.text)),
    );

    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures).toEqual([]);
    expect(
      results.every((result) => result.status === 'fulfilled' && result.value.status === 'appended'),
    ).toBe(true);

    const events = await store.read('conversation', streamRef(ref));
    expect(events.map((event) => event.sequence)).toEqual(
      Array.from({ length: PARALLEL + 1 }, (_, i) => i + 1),
    );
    const received = events.filter(
      (event): event is EventOfType<'conversation.message-received.v1'> =>
        event.type === 'conversation.message-received.v1',
    );
    expect(received.map((event) => event.data.messageId).sort()).toEqual(messages.map((m) => m.id).sort());
    expect(await store.streamVersion(streamRef(ref))).toBe(PARALLEL + 1);

    // No lost update: the state every writer ended with includes its own message, and the final
    // state (folded from the store) holds them all.
    for (const [index, result] of results.entries()) {
      const transcript = result.status === 'fulfilled' ? contextOf(result.value.state).transcript : [];
      expect(transcript.map((entry) => entry.id)).toContain(messages[index]?.id);
    }
    const final = await streams.load(ref);
    expect(statusOf(final)).toBe('answering');
    expect(contextOf(final).pendingMessageIds.sort()).toEqual(messages.map((m) => m.id).sort());
    const [{ n }] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox o JOIN events e USING (global_position) WHERE e.stream_id = $1`,
      [ref.conversationId],
    );
    expect(n).toBe(PARALLEL + 1);
  });

  it(`keeps every message exactly once or refuses it as retryable with ${HEAVY} parallel writers`, async () => {
    const ref = await startConversation();
    const messages = Array.from({ length: HEAVY }, (_, index) => ({
      id: randomUUID(),
      text: `burst ${index}`,
    }));

    const results = await Promise.allSettled(
      messages.map((message) => receiveMessage(ref, message.id, message.text)),
    );

    const landed = messages.filter((_, index) => results[index]?.status === 'fulfilled').map((m) => m.id);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(AppError);
        expect(result.reason).toMatchObject({ code: 'concurrency-conflict', retryable: true });
      }
    }
    const events = await store.read('conversation', streamRef(ref));
    expect(events.map((event) => event.sequence)).toEqual(
      Array.from({ length: landed.length + 1 }, (_, i) => i + 1),
    );
    const stored = events.flatMap((event) =>
      event.type === 'conversation.message-received.v1' ? [event.data.messageId] : [],
    );
    expect(stored.sort()).toEqual(landed.sort());
    expect(landed.length).toBeGreaterThanOrEqual(PARALLEL);
  });

  it('records the same message sent many times in parallel (client retries) once', async () => {
    const ref = await startConversation();
    const messageId = randomUUID();

    const results = await Promise.all(
      Array.from({ length: PARALLEL }, () => receiveMessage(ref, messageId, 'where is my parcel?')),
    );

    expect(results.filter((result) => result.status === 'appended')).toHaveLength(1);
    expect(results.every((result) => ['appended', 'duplicate', 'unchanged'].includes(result.status))).toBe(
      true,
    );
    const events = await store.read('conversation', streamRef(ref));
    expect(events.map((event) => event.type)).toEqual([
      'conversation.started.v2',
      'conversation.message-received.v1',
    ]);
    for (const result of results) {
      expect(contextOf(result.state).transcript.map((entry) => entry.id)).toEqual([messageId]);
    }
  });

  it('decides against the stored state after a conflict: a message racing a close is refused, not appended after it', async () => {
    const ref = await startConversation();
    const closeEventId = randomUUID();

    const [message, close] = await Promise.allSettled([
      receiveMessage(ref, randomUUID(), 'hello?'),
      streams.execute(ref, { causationId: null, correlationId: closeEventId }, (state) =>
        decide({ type: 'close-conversation', eventId: closeEventId, reason: 'resolved' }, state),
      ),
    ]);

    expect(close.status).toBe('fulfilled');
    const types = (await store.read('conversation', streamRef(ref))).map((event) => event.type);
    expect(types.at(-1)).toBe('conversation.closed.v1');
    if (message.status === 'rejected') {
      expect(message.reason).toBeInstanceOf(AppError);
      expect((message.reason as AppError).code).toBe('conversation-closed');
      expect(types).toEqual(['conversation.started.v2', 'conversation.closed.v1']);
    } else {
      expect(types).toEqual([
        'conversation.started.v2',
        'conversation.message-received.v1',
        'conversation.closed.v1',
      ]);
    }
  });

  it('starts a conversation once when two starts race (the loser gets conversation-exists)', async () => {
    const ref = { tenantId: TENANT, conversationId: randomUUID() };
    const start = () => {
      const eventId = randomUUID();
      return streams.execute(ref, { causationId: null, correlationId: eventId }, (state) =>
        decide(
          {
            type: 'start-conversation',
            eventId,
            data: { channel: 'app', locale: 'de', labels: {}, configVersion: 0 },
          },
          state,
        ),
      );
    };

    const results = await Promise.allSettled([start(), start(), start()]);

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(result.reason).toMatchObject({ code: 'conversation-exists' });
    }
    expect(await store.read('conversation', streamRef(ref))).toHaveLength(1);
  });
});
