import { randomBytes, randomUUID } from 'node:crypto';
import { ERASED_MARKER, isSealed, type PendingEvent } from '@contracts';
import { DataKeyRepository, PersonalDataCipher, PostgresEventStore, START_OF_STORE } from '@libs/event-store';
import {
  createTenantWithKey,
  createTestDatabase,
  messageReceived,
  started,
  target,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(60_000);

const MASTER = randomBytes(32);
let db: TestDatabase;

/** One service's store: its own cipher and key cache. */
const sealingStore = () =>
  new PostgresEventStore(
    db.dataSource,
    undefined,
    new PersonalDataCipher(new DataKeyRepository(db.dataSource, MASTER)),
  );

beforeAll(async () => {
  db = await createTestDatabase('personal_data');
  await createTenantWithKey(db.dataSource, 'acme');
});

afterAll(async () => {
  await db?.drop();
});

async function payloads(conversationId: string): Promise<string[]> {
  const rows: { payload: string }[] = await db.dataSource.query(
    `SELECT data::text AS payload FROM events WHERE stream_id = $1 ORDER BY sequence`,
    [conversationId],
  );
  return rows.map((row) => row.payload);
}

describe('personal data sealed by PostgresEventStore', () => {
  it('writes the key with the first append, and a failed first append leaves neither events nor key', async () => {
    const conversationId = randomUUID();
    const store = sealingStore();
    await store.append(target('acme', conversationId, 0), [started(), messageReceived('secret 13800138000')]);
    // A second "first" append: refused (the stream exists), and nothing of it is stored.
    await expect(sealingStore().append(target('acme', conversationId, 0), [started()])).rejects.toMatchObject(
      {
        code: 'concurrency-conflict',
      },
    );
    const keys: { n: number }[] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM conversation_data_keys WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(keys).toEqual([{ n: 1 }]);
    const stored = await payloads(conversationId);
    expect(stored.join()).not.toContain('13800138000');
    expect(isSealed((JSON.parse(stored[1]!) as { text: string }).text)).toBe(true);

    const orphan = randomUUID();
    await expect(
      sealingStore().append(target('acme', orphan, 'any'), [messageReceived('no such stream')]),
    ).rejects.toMatchObject({ code: 'conversation-not-found' });
    const none: unknown[] = await db.dataSource.query(
      `SELECT 1 FROM conversation_data_keys WHERE conversation_id = $1`,
      [orphan],
    );
    expect(none).toEqual([]);
  });

  it('two services sealing the first text of a stream at once agree on one key: both texts open', async () => {
    const conversationId = randomUUID();
    // A stream written before sealing: it exists, and has no key yet.
    await new PostgresEventStore(db.dataSource).append(target('acme', conversationId, 0), [started()]);
    const texts = ['first writer', 'second writer'];
    const events: PendingEvent[] = texts.map((text) => messageReceived(text));
    await Promise.all(
      events.map((event) => sealingStore().append(target('acme', conversationId, 'any'), [event])),
    );

    const read = await sealingStore().read('conversation', { tenantId: 'acme', streamId: conversationId });
    expect(
      read
        .filter((event) => event.type === 'conversation.message-received.v1')
        .map((event) => (event.data as { text: string }).text)
        .sort(),
    ).toEqual(texts);
  });

  it('read-all gives the sealed form as stored and the opened form; erased conversations open to the marker', async () => {
    const conversationId = randomUUID();
    const store = sealingStore();
    await store.append(target('acme', conversationId, 0), [
      started(),
      messageReceived('readable 13800138000'),
    ]);
    const recorded = (await store.readAll(START_OF_STORE, 10_000)).filter(
      (entry) => 'conversationId' in entry.stored && entry.stored.conversationId === conversationId,
    );
    const message = recorded.find((entry) => entry.stored.type === 'conversation.message-received.v1')!;
    expect(isSealed((message.stored.data as { text: string }).text)).toBe(true);
    expect((message.event.data as { text: string }).text).toBe('readable 13800138000');

    await store.append(target('acme', conversationId, 'any'), [
      {
        eventId: randomUUID(),
        type: 'conversation.erased.v1',
        data: { keyId: randomUUID(), role: 'compliance', reason: 'retention-expired', reference: null },
      },
    ]);
    for (const reader of [store, sealingStore()]) {
      const after = await reader.readAll(START_OF_STORE, 10_000);
      const opened = after.find((entry) => entry.stored.eventId === message.stored.eventId)!;
      expect(opened.stored).toEqual(message.stored);
      expect((opened.event.data as { text: string }).text).toBe(ERASED_MARKER);
    }
  });
});
