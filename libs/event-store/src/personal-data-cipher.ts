import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  AppError,
  ERASED_MARKER,
  SEALED_PREFIX,
  hasPersonalFields,
  isSealed,
  mapPersonalFields,
} from '@contracts';
import type { ConversationRef } from './conversation-streams';
import { dataKeyId, type DataKey, type DataKeyRepository } from './data-key.repository';

/** What sealing and opening need of an event: its identity and its data. */
export type Openable = {
  eventId: string;
  type: string;
  tenantId: string;
  data: unknown;
} & ({ conversationId: string } | { streamId: string });

export interface PersonalDataCipherOptions {
  /** How long an unwrapped key is trusted before the table is asked again (erasure is seen by then). */
  ttlMs?: number;
  /** Most keys held; the oldest go first. */
  maxKeys?: number;
  now?: () => number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals one text with a data key (AES-256-GCM): the `sealed:v1:` form of contracts/sealed-text.ts. */
export function sealText(key: Buffer, aad: Buffer, text: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return `${SEALED_PREFIX}${iv.toString('base64url')}:${body.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}`;
}

/** Opens a sealed text; a changed byte (or another event's ciphertext) fails, as it must. */
export function openText(key: Buffer, aad: Buffer, sealed: string): string {
  const [iv, body, tag] = sealed.slice(SEALED_PREFIX.length).split(':');
  try {
    const authTag = Buffer.from(tag ?? '', 'base64url');
    // GCM accepts shorter tags, which are easier to forge: only the full 16 bytes we write are valid.
    if (authTag.length !== TAG_BYTES) throw new Error('short tag');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
    decipher.setAAD(aad).setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(body ?? '', 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new AppError('stream-corrupted', 'sealed personal data does not open: it was altered or moved');
  }
}

/** The AAD binds a ciphertext to its tenant, conversation and event. */
function aadOf(event: { tenantId: string; conversationId: string; eventId: string }): Buffer {
  return Buffer.from(
    `convo-engine/personal-data/v1\u0000${event.tenantId}\u0000${event.conversationId}\u0000${event.eventId}`,
  );
}

/**
 * Seals personal fields (contracts' PERSONAL_FIELDS) where events are written and opens them where
 * they are read, with each conversation's data key from `DataKeyRepository`, kept in a small cache.
 * An erased conversation (its key shredded, or no key row at all) opens to ERASED_MARKER, never an
 * error; a ciphertext that fails authentication is `stream-corrupted`. Plain text in streams written
 * before sealing is read as it is.
 */
export class PersonalDataCipher {
  private readonly cache = new Map<string, { key: DataKey; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(
    private readonly keys: DataKeyRepository,
    options: PersonalDataCipherOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The key an append to this conversation seals with, and, when the conversation has no key row yet,
   * the wrapped new key the append must store in its own statement (see PostgresEventStore.append).
   */
  async keyForAppend(ref: ConversationRef): Promise<{ key: DataKey; wrappedNew: Buffer | null }> {
    const cached = this.cached(ref);
    if (cached) return { key: cached, wrappedNew: null };
    const found = (await this.keys.find([ref])).get(dataKeyId(ref));
    if (found) {
      this.remember(ref, found);
      return { key: found, wrappedNew: null };
    }
    const { key, wrapped } = this.keys.newKey(ref);
    return { key: { state: 'active', key }, wrappedNew: wrapped };
  }

  /** Personal fields sealed with `key`, or replaced by the marker when the conversation was erased. */
  seal<E extends { eventId: string; type: string; data: unknown }>(
    ref: ConversationRef,
    key: DataKey,
    event: E,
  ): E['data'] {
    if (!hasPersonalFields(event.type)) return event.data;
    if (key.state === 'erased') return mapPersonalFields(event.type, event.data, () => ERASED_MARKER);
    const aad = aadOf({ ...ref, eventId: event.eventId });
    return mapPersonalFields(event.type, event.data, (text) => sealText(key.key, aad, text));
  }

  /** Events with their personal fields opened; keys are fetched once per conversation, in one query. */
  async open<E extends Openable>(events: readonly E[]): Promise<E[]> {
    // An erasure in hand means the key is gone now, whatever the cache still holds.
    for (const event of events) {
      if (event.type === 'conversation.erased.v1' && 'conversationId' in event) {
        this.remember(event, { state: 'erased' });
      }
    }
    const needed = new Map<string, ConversationRef>();
    for (const event of events) {
      if ('conversationId' in event && hasPersonalFields(event.type)) {
        const ref = { tenantId: event.tenantId, conversationId: event.conversationId };
        if (!this.cached(ref)) needed.set(dataKeyId(ref), ref);
      }
    }
    const fetched = await this.keys.find([...needed.values()]);
    for (const [id, ref] of needed) {
      const key = fetched.get(id);
      // No row: never cached, so a key written a moment later (a concurrent first append) is found.
      if (key) this.remember(ref, key);
    }
    return events.map((event) => {
      if (!('conversationId' in event) || !hasPersonalFields(event.type)) return event;
      const ref = { tenantId: event.tenantId, conversationId: event.conversationId };
      const key = this.cached(ref) ?? fetched.get(dataKeyId(ref)) ?? { state: 'erased' };
      return { ...event, data: this.openData(key, { ...ref, eventId: event.eventId }, event) };
    });
  }

  /** Keeps a key known to be committed (read from the table, or stored by a committed append). */
  remember(ref: ConversationRef, key: DataKey): void {
    const id = dataKeyId(ref);
    this.cache.delete(id);
    if (this.cache.size >= this.maxKeys) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    // A tombstone never comes back to life: it needs no expiry.
    this.cache.set(id, { key, expiresAt: key.state === 'erased' ? Infinity : this.now() + this.ttlMs });
  }

  forget(ref: ConversationRef): void {
    this.cache.delete(dataKeyId(ref));
  }

  private cached(ref: ConversationRef): DataKey | undefined {
    const entry = this.cache.get(dataKeyId(ref));
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.key;
    this.cache.delete(dataKeyId(ref));
    return undefined;
  }

  private openData(
    key: DataKey,
    context: { tenantId: string; conversationId: string; eventId: string },
    event: Openable,
  ): unknown {
    const aad = aadOf(context);
    return mapPersonalFields(event.type, event.data, (text) => {
      if (!isSealed(text)) return text;
      return key.state === 'erased' ? ERASED_MARKER : openText(key.key, aad, text);
    });
  }
}
