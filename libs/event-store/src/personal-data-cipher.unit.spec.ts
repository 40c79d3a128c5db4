import { randomBytes } from 'node:crypto';
import { ERASED_MARKER, isSealed, type StoredEvent } from '@contracts';
import { sampleEvent } from '@contracts/testing';
import { DataKeyRepository, parseMasterKey, type SqlRunner } from './data-key.repository';
import { PersonalDataCipher } from './personal-data-cipher';

/** conversation_data_keys in memory: what `find` selects, keyed like the table. */
class FakeKeyTable implements SqlRunner {
  readonly rows = new Map<
    string,
    { tenant_id: string; conversation_id: string; wrapped_key: Buffer | null }
  >();
  selects = 0;

  query(_sql: string, parameters: unknown[] = []): Promise<unknown> {
    this.selects++;
    const [tenants, conversations] = parameters as [string[], string[]];
    return Promise.resolve(
      tenants.flatMap((tenant, i) => {
        const row = this.rows.get(`${tenant}/${conversations[i]}`);
        return row ? [row] : [];
      }),
    );
  }
}

const MASTER = randomBytes(32);
const REF = { tenantId: 'acme-cn', conversationId: '3f1d2c4b-5a6e-4b7c-9d8e-0f1a2b3c4d5e' };
const TEXT = '我的手机是13812345678，订单 A1234';

function setup(options: { now?: () => number } = {}) {
  const table = new FakeKeyTable();
  const keys = new DataKeyRepository(table, MASTER);
  const cipher = new PersonalDataCipher(keys, { ttlMs: 1_000, ...options });
  /** The conversation's key as the store's first append would write it. */
  async function storeKey() {
    const { key, wrappedNew } = await cipher.keyForAppend(REF);
    table.rows.set(`${REF.tenantId}/${REF.conversationId}`, {
      tenant_id: REF.tenantId,
      conversation_id: REF.conversationId,
      wrapped_key: wrappedNew,
    });
    return key;
  }
  return { table, keys, cipher, storeKey };
}

function message(text = TEXT): StoredEvent {
  const event = sampleEvent('conversation.message-received.v1') as StoredEvent & { data: { text: string } };
  event.data.text = text;
  return event;
}

describe('PersonalDataCipher', () => {
  it('seals personal fields so no plaintext is left, and opens them back exactly', async () => {
    const { cipher, storeKey } = setup();
    const key = await storeKey();
    const prompt = sampleEvent('conversation.reply-requested.v1') as StoredEvent;

    const sealed = [message(), prompt].map((event) => ({ ...event, data: cipher.seal(REF, key, event) }));

    expect(JSON.stringify(sealed)).not.toContain('13812345678');
    expect(JSON.stringify(sealed)).not.toContain('快递');
    expect(isSealed((sealed[0]!.data as { text: string }).text)).toBe(true);
    expect(await new PersonalDataCipher(setup().keys).open([])).toEqual([]);
    expect(await cipher.open(sealed)).toEqual([message(), prompt]);
  });

  it('fails on a changed byte, and on ciphertext moved to another event', async () => {
    const { cipher, storeKey } = setup();
    const key = await storeKey();
    const event = message();
    const sealed = cipher.seal(REF, key, event) as { text: string };
    const [iv, body, tag] = sealed.text.slice('sealed:v1:'.length).split(':');
    const flipped = `${body!.slice(0, 5)}${body![5] === 'A' ? 'B' : 'A'}${body!.slice(6)}`;
    const tampered = { ...event, data: { ...sealed, text: `sealed:v1:${iv}:${flipped}:${tag}` } };

    await expect(cipher.open([tampered])).rejects.toMatchObject({ code: 'stream-corrupted' });
    const other = { ...message(), eventId: '0d3c2b1a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', data: sealed };
    await expect(cipher.open([other])).rejects.toMatchObject({ code: 'stream-corrupted' });
  });

  it('opens to the marker, never an error, once the key is shredded or gone', async () => {
    const { cipher, table, storeKey } = setup();
    const key = await storeKey();
    const sealed = { ...message(), data: cipher.seal(REF, key, message()) };
    const row = table.rows.get(`${REF.tenantId}/${REF.conversationId}`)!;

    row.wrapped_key = null;
    const fresh = new PersonalDataCipher(new DataKeyRepository(table, MASTER));
    expect(await fresh.open([sealed])).toEqual([
      { ...message(), data: { ...message().data, text: ERASED_MARKER } },
    ]);

    table.rows.clear();
    const none = new PersonalDataCipher(new DataKeyRepository(table, MASTER));
    expect((await none.open([sealed]))[0]!.data).toEqual({ ...message().data, text: ERASED_MARKER });
  });

  it('forgets a cached key as soon as it reads the erasure, and seals nothing readable after it', async () => {
    const { cipher, storeKey } = setup();
    const key = await storeKey();
    const sealed = { ...message(), data: cipher.seal(REF, key, message()) };
    const erased = { ...sampleEvent('conversation.erased.v1'), sequence: 2 } as StoredEvent;

    const [opened] = await cipher.open([sealed, erased]);

    expect(opened!.data).toEqual({ ...message().data, text: ERASED_MARKER });
    const after = await cipher.keyForAppend(REF);
    expect(after).toEqual({ key: { state: 'erased' }, wrappedNew: null });
    expect(cipher.seal(REF, after.key, message())).toEqual({ ...message().data, text: ERASED_MARKER });
  });

  it('asks the table once per conversation while the key is cached, and again after the TTL', async () => {
    let now = 0;
    const { cipher, table, storeKey } = setup({ now: () => now });
    const key = await storeKey();
    const sealed = { ...message(), data: cipher.seal(REF, key, message()) };
    const reader = new PersonalDataCipher(new DataKeyRepository(table, MASTER), {
      ttlMs: 1_000,
      now: () => now,
    });
    table.selects = 0;

    await reader.open([sealed, sealed]);
    await reader.open([sealed]);
    expect(table.selects).toBe(1);
    now = 1_001;
    await reader.open([sealed]);
    expect(table.selects).toBe(2);
  });

  it('reads plain text written before sealing as it is, and leaves other kinds alone', async () => {
    const { cipher } = setup();
    const settings = sampleEvent('tenant.settings-updated.v1') as StoredEvent;
    expect(await cipher.open([message(), settings])).toEqual([message(), settings]);
  });

  it('refuses a key wrapped under another master key: that is a fault, not an erasure', async () => {
    const { cipher, table, storeKey } = setup();
    const key = await storeKey();
    const sealed = { ...message(), data: cipher.seal(REF, key, message()) };
    const wrong = new PersonalDataCipher(new DataKeyRepository(table, randomBytes(32)));
    await expect(wrong.open([sealed])).rejects.toMatchObject({ code: 'stream-corrupted' });
  });
});

describe('parseMasterKey', () => {
  it('takes 32 bytes as hex or base64, and nothing else', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(() => parseMasterKey(randomBytes(16).toString('hex'))).toThrow(/32 bytes/);
    expect(() => parseMasterKey('placeholder')).toThrow(/32 bytes/);
  });
});
