import { randomUUID } from 'node:crypto';
import { AppError, TOPICS, type ConversationEvent, type PendingEvent } from '@contracts';
import { PostgresEventStore } from '@libs/event-store';
import {
  closed,
  createTenantWithKey,
  createTestDatabase,
  messageReceived,
  started,
  target,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(30_000);

const TENANT = 'acme';
const OTHER_TENANT = 'globex';
const FIXED_NOW = new Date('2025-11-22T10:00:00.123Z');

let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('event_store');
  await createTenantWithKey(db.dataSource, TENANT);
  await createTenantWithKey(db.dataSource, OTHER_TENANT);
  store = new PostgresEventStore(db.dataSource, () => FIXED_NOW);
});

afterAll(async () => {
  await db?.drop();
});

/** Everything an append could have touched, to prove that a refused append touched nothing. */
async function footprint(conversationId: string, tenantId = TENANT) {
  const [events, outbox, stream] = await Promise.all([
    db.dataSource.query(`SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND stream_id = $2`, [
      tenantId,
      conversationId,
    ]),
    db.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox o JOIN events e USING (global_position)
        WHERE e.tenant_id = $1 AND e.stream_id = $2`,
      [tenantId, conversationId],
    ),
    db.dataSource.query(
      `SELECT version::int AS version, updated_at FROM streams WHERE tenant_id = $1 AND stream_id = $2`,
      [tenantId, conversationId],
    ),
  ]);
  return { events: events[0].n as number, outbox: outbox[0].n as number, stream: stream[0] ?? null };
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected AppError ${code}, but the call succeeded`);
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}

const read = (tenantId: string, conversationId: string, options = {}) =>
  store.read('conversation', { tenantId, streamId: conversationId }, options);
const versionOf = (tenantId: string, conversationId: string) =>
  store.streamVersion({ tenantId, streamId: conversationId });

async function newConversation(events: PendingEvent[] = [started()]): Promise<string> {
  const conversationId = randomUUID();
  const result = await store.append(target(TENANT, conversationId, 0), events);
  expect(result.status).toBe('appended');
  return conversationId;
}

describe('EventStore.append to a new stream', () => {
  it('assigns sequences 1..n, fills in the envelope and writes one outbox row per event in order', async () => {
    const conversationId = randomUUID();
    const pending = [started(), messageReceived('hello'), messageReceived('are you there?')];
    const appendTarget = target(TENANT, conversationId, 0);
    appendTarget.causationId = randomUUID();

    const result = await store.append(appendTarget, pending);

    expect(result).toEqual({ status: 'appended', version: 3, events: expect.any(Array) });
    const events = (result as { events: ConversationEvent[] }).events;
    expect(events.map((event) => [event.eventId, event.sequence])).toEqual(
      pending.map((event, index) => [event.eventId, index + 1]),
    );
    for (const event of events) {
      expect(event).toMatchObject({
        tenantId: TENANT,
        conversationId,
        occurredAt: FIXED_NOW.toISOString(),
        causationId: appendTarget.causationId,
        correlationId: appendTarget.correlationId,
      });
    }

    const rows: { event_id: string; sequence: number; global_position: string; topic: string }[] =
      await db.dataSource.query(
        `SELECT e.event_id, e.sequence::int AS sequence, e.global_position, o.topic
           FROM outbox o JOIN events e USING (global_position)
          WHERE e.stream_id = $1 ORDER BY o.id`,
        [conversationId],
      );
    expect(rows.map((row) => [row.event_id, row.sequence, row.topic])).toEqual(
      pending.map((event, index) => [event.eventId, index + 1, TOPICS.conversationEvents]),
    );
    const positions = rows.map((row) => BigInt(row.global_position));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);

    expect(await versionOf(TENANT, conversationId)).toBe(3);
    // What is read back is exactly what the append returned (types, dates and JSON survive the trip).
    expect(await read(TENANT, conversationId)).toEqual(events);
  });

  it('continues the sequence on the next append with the right expected version', async () => {
    const conversationId = await newConversation([started(), messageReceived('one')]);

    const result = await store.append(target(TENANT, conversationId, 2), [messageReceived('two'), closed()]);

    expect(result.status).toBe('appended');
    expect(result.version).toBe(4);
    const events = await read(TENANT, conversationId);
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3, 4]);
    expect(await read(TENANT, conversationId, { afterSequence: 2, limit: 1 })).toEqual([events[2]]);
    expect(await read(TENANT, conversationId, { toSequence: 2 })).toEqual(events.slice(0, 2));
  });

  it('keeps awkward text byte for byte (quotes, backslashes, braces, commas, non-Latin, emoji)', async () => {
    const text = 'He said "{a,b}" \\ C:\\path\\ 你好 — ∑ 😀 \n\t end';
    const conversationId = await newConversation([started(), messageReceived(text)]);

    const [, message] = await read(TENANT, conversationId);

    expect(message?.data).toMatchObject({ text });
  });
});

describe('EventStore.append with a stale expected version', () => {
  it('fails with concurrency-conflict and writes nothing', async () => {
    const conversationId = await newConversation([started(), messageReceived('first')]);
    const before = await footprint(conversationId);

    const error = await expectAppError(
      store.append(target(TENANT, conversationId, 1), [messageReceived('based on a stale read')]),
      'concurrency-conflict',
    );

    expect(error.retryable).toBe(true);
    expect(error.details).toEqual({ expectedVersion: 1, actualVersion: 2 });
    expect(await footprint(conversationId)).toEqual(before);
    expect(before).toMatchObject({ events: 2, outbox: 2, stream: { version: 2 } });
  });

  it('fails with concurrency-conflict when a "new" stream already exists, and writes nothing', async () => {
    const conversationId = await newConversation();
    const before = await footprint(conversationId);

    await expectAppError(
      store.append(target(TENANT, conversationId, 0), [started()]),
      'concurrency-conflict',
    );

    expect(await footprint(conversationId)).toEqual(before);
  });

  it('fails with concurrency-conflict for an expected version ahead of the stream, and writes nothing', async () => {
    const conversationId = await newConversation();
    const before = await footprint(conversationId);

    await expectAppError(
      store.append(target(TENANT, conversationId, 5), [messageReceived('x')]),
      'concurrency-conflict',
    );

    expect(await footprint(conversationId)).toEqual(before);
  });
});

describe('EventStore.append of events already stored (a redelivery)', () => {
  it('answers duplicate with the current version and writes nothing, whatever version is claimed', async () => {
    const batch = [started(), messageReceived('once')];
    const conversationId = await newConversation(batch);
    const before = await footprint(conversationId);

    for (const expectedVersion of [0, 2, 'any'] as const) {
      const result = await store.append(target(TENANT, conversationId, expectedVersion), batch);
      expect(result).toEqual({ status: 'duplicate', version: 2 });
    }

    expect(await footprint(conversationId)).toEqual(before);
  });

  it('refuses a batch that was only partly appended, and writes nothing', async () => {
    const first = messageReceived('already there');
    const conversationId = await newConversation([started(), first]);
    const before = await footprint(conversationId);

    await expectAppError(
      store.append(target(TENANT, conversationId, 2), [first, messageReceived('new')]),
      'concurrency-conflict',
    );

    expect(await footprint(conversationId)).toEqual(before);
  });
});

describe("EventStore.append with expectedVersion 'any'", () => {
  it('appends after whatever is there', async () => {
    const conversationId = await newConversation([started(), messageReceived('a'), messageReceived('b')]);

    const result = await store.append(target(TENANT, conversationId, 'any'), [
      messageReceived('c'),
      messageReceived('d'),
    ]);

    expect(result.status).toBe('appended');
    expect(result.version).toBe(5);
    expect((await read(TENANT, conversationId)).map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(await footprint(conversationId)).toMatchObject({ events: 5, outbox: 5, stream: { version: 5 } });
  });

  it('does not create a stream: an unknown conversation is conversation-not-found', async () => {
    const conversationId = randomUUID();

    await expectAppError(
      store.append(target(TENANT, conversationId, 'any'), [started()]),
      'conversation-not-found',
    );

    expect(await footprint(conversationId)).toEqual({ events: 0, outbox: 0, stream: null });
  });
});

describe('EventStore tenancy', () => {
  it('does not let another tenant append to a conversation, whatever version it claims', async () => {
    const conversationId = await newConversation([started(), messageReceived('private')]);
    const before = await footprint(conversationId);

    for (const expectedVersion of [2, 'any'] as const) {
      await expectAppError(
        store.append(target(OTHER_TENANT, conversationId, expectedVersion), [messageReceived('intrusion')]),
        'conversation-not-found',
      );
    }
    // Streams belong to a tenant: "new stream" with the same id is another tenant's own, separate stream.
    const intrusion = messageReceived('intrusion');
    await store.append(target(OTHER_TENANT, conversationId, 0), [started(), intrusion]);

    expect(await footprint(conversationId)).toEqual(before);
    expect((await read(TENANT, conversationId)).map((event) => event.eventId)).not.toContain(
      intrusion.eventId,
    );
    expect(await read(OTHER_TENANT, conversationId)).toHaveLength(2);
  });

  it("reads another tenant's conversation as empty and without a version", async () => {
    const conversationId = await newConversation([started(), messageReceived('private')]);

    expect(await read(OTHER_TENANT, conversationId)).toEqual([]);
    expect(await versionOf(OTHER_TENANT, conversationId)).toBeNull();
    expect(await read(TENANT, conversationId)).toHaveLength(2);
  });

  it('refuses a tenant that does not exist (foreign key), writing nothing', async () => {
    const conversationId = randomUUID();

    await expect(store.append(target('no-such-tenant', conversationId, 0), [started()])).rejects.toThrow();

    expect(await footprint(conversationId)).toEqual({ events: 0, outbox: 0, stream: null });
  });
});

describe('64-bit positions', () => {
  it('stores and reads sequences past 2^31 (the API accepts up to 2^53 - 1)', async () => {
    const conversationId = await newConversation([started()]);
    // Only the stream's version is moved (events stay append-only): the next append is event 2^31 + 1.
    await db.dataSource.query(
      `UPDATE streams SET version = 2147483648 WHERE tenant_id = $1 AND stream_id = $2`,
      [TENANT, conversationId],
    );

    const result = await store.append(target(TENANT, conversationId, 2147483648), [messageReceived('far')]);

    expect(result).toMatchObject({ status: 'appended', version: 2147483649 });
    const [far] = await read(TENANT, conversationId, { afterSequence: 2147483648 });
    expect(far).toMatchObject({ sequence: 2147483649, data: { text: 'far' } });
    expect(await versionOf(TENANT, conversationId)).toBe(2147483649);
  });
});

describe('the events table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, even from a direct SQL session', async () => {
    const conversationId = await newConversation([started(), messageReceived('immutable')]);
    const before = await read(TENANT, conversationId);

    await expect(
      db.dataSource.query(`UPDATE events SET data = '{}'::jsonb WHERE stream_id = $1`, [conversationId]),
    ).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await expect(
      db.dataSource.query(`DELETE FROM events WHERE stream_id = $1`, [conversationId]),
    ).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(db.dataSource.query(`TRUNCATE events CASCADE`)).rejects.toThrow(
      /append-only \(TRUNCATE refused\)/,
    );

    expect(await read(TENANT, conversationId)).toEqual(before);
  });
});

describe('EventStore.append of invalid events', () => {
  it.each<[string, () => PendingEvent]>([
    ['empty message text', () => messageReceived('   ')],
    [
      'a message id that is not a uuid',
      () => ({
        eventId: randomUUID(),
        type: 'conversation.message-received.v1',
        data: { messageId: 'm-1', text: 'x' },
      }),
    ],
    ['an unknown field in data', () => ({ ...started(), data: { ...started().data, extra: 1 } as never })],
    [
      'an unknown event type',
      () => ({ eventId: randomUUID(), type: 'conversation.teleported.v1', data: {} }) as never,
    ],
  ])('rejects %s with validation-failed before writing anything', async (_label, build) => {
    const conversationId = randomUUID();

    await expectAppError(
      store.append(target(TENANT, conversationId, 0), [started(), build()]),
      'validation-failed',
    );

    // Not even the stream row that expectedVersion 0 inserts survives.
    expect(await footprint(conversationId)).toEqual({ events: 0, outbox: 0, stream: null });
  });

  it('rejects an invalid event in a later append without touching the stream', async () => {
    const conversationId = await newConversation();
    const before = await footprint(conversationId);

    await expectAppError(
      store.append(target(TENANT, conversationId, 1), [messageReceived('fine'), messageReceived('')]),
      'validation-failed',
    );

    expect(await footprint(conversationId)).toEqual(before);
  });

  // Validated before any query: a malformed id is the caller's error, not a database one.
  it('rejects an event id that is not a uuid with validation-failed', async () => {
    const conversationId = randomUUID();

    await expectAppError(
      store.append(target(TENANT, conversationId, 0), [{ ...started(), eventId: 'not-a-uuid' }]),
      'validation-failed',
    );
  });

  it('writes nothing when an id is not a uuid, whatever the error', async () => {
    const conversationId = randomUUID();

    await expect(
      store.append(target(TENANT, conversationId, 0), [
        started(),
        { ...messageReceived('x'), eventId: 'nope' },
      ]),
    ).rejects.toThrow();
    await expect(store.append(target(TENANT, 'not-a-uuid', 0), [started()])).rejects.toThrow(
      /validation-failed|conversationId/,
    );

    expect(await footprint(conversationId)).toEqual({ events: 0, outbox: 0, stream: null });
  });

  it('rejects an empty batch', async () => {
    await expect(store.append(target(TENANT, randomUUID(), 0), [])).rejects.toThrow(/at least one event/);
  });

  // PostgreSQL's jsonb cannot store these; the contracts refuse them first, so nothing is attempted.
  it.each([
    ['a NUL character', 'before\u0000after'],
    ['an unpaired surrogate', 'broken \ud800 emoji'],
  ])('rejects text with %s as validation-failed, before writing', async (_label, text) => {
    const conversationId = randomUUID();

    await expectAppError(
      store.append(target(TENANT, conversationId, 0), [started(), messageReceived(text)]),
      'validation-failed',
    );

    expect(await footprint(conversationId)).toEqual({ events: 0, outbox: 0, stream: null });
  });
});
