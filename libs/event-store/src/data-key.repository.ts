import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '@contracts';
import type { ConversationRef } from './conversation-streams';

/** Anything that runs SQL: a DataSource, an EntityManager inside a transaction. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** A conversation's data key: usable, or shredded by an erasure (the row stays as a tombstone). */
export type DataKey = { state: 'active'; key: Buffer } | { state: 'erased' };

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The master key that wraps every data key: 32 bytes, as 64 hex characters or base64. Parsed at boot,
 * so a bad key stops the service before it writes anything.
 */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (
    key.length !== KEY_BYTES ||
    (!/^[0-9a-fA-F]{64}$/.test(trimmed) && key.toString('base64') !== trimmed)
  ) {
    throw new Error('DATA_KEY_ENCRYPTION_KEY must be 32 bytes: 64 hex characters or base64');
  }
  return key;
}

/**
 * The `conversation_data_keys` table (PostgreSQL): one random AES-256 key per conversation, stored
 * wrapped (AES-256-GCM) by the master key, bound to its tenant and conversation so a row copied onto
 * another conversation does not unwrap. Erasure sets the key to NULL.
 */
export class DataKeyRepository {
  constructor(
    private readonly db: SqlRunner,
    private readonly masterKey: Buffer,
  ) {}

  /** A fresh data key with its wrapped form, for the statement that appends the first event. */
  newKey(ref: ConversationRef): { key: Buffer; wrapped: Buffer } {
    const key = randomBytes(KEY_BYTES);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv).setAAD(wrapContext(ref));
    const body = Buffer.concat([cipher.update(key), cipher.final()]);
    return { key, wrapped: Buffer.concat([iv, body, cipher.getAuthTag()]) };
  }

  /** The keys of these conversations; one absent from the map has no row at all. */
  async find(refs: readonly ConversationRef[]): Promise<Map<string, DataKey>> {
    const found = new Map<string, DataKey>();
    if (refs.length === 0) return found;
    const rows = (await this.db.query(
      `SELECT k.tenant_id, k.conversation_id, k.wrapped_key FROM conversation_data_keys k
         JOIN unnest($1::text[], $2::text[]) AS r(tenant_id, conversation_id)
           ON k.tenant_id = r.tenant_id AND k.conversation_id = r.conversation_id`,
      [refs.map((ref) => ref.tenantId), refs.map((ref) => ref.conversationId)],
    )) as { tenant_id: string; conversation_id: string; wrapped_key: Buffer | null }[];
    for (const row of rows) {
      const ref = { tenantId: row.tenant_id, conversationId: row.conversation_id };
      found.set(
        dataKeyId(ref),
        row.wrapped_key === null
          ? { state: 'erased' }
          : { state: 'active', key: this.unwrap(ref, row.wrapped_key) },
      );
    }
    return found;
  }

  /**
   * Shreds the key inside `tx` (the erasure's transaction, with its event). `erased` when a key was
   * shredded now; `already-erased` when it was before; `no-key` for a conversation without a row.
   */
  async erase(tx: SqlRunner, ref: ConversationRef): Promise<'erased' | 'already-erased' | 'no-key'> {
    const rows = (await tx.query(
      `INSERT INTO conversation_data_keys (tenant_id, conversation_id, wrapped_key, erased_at)
       VALUES ($1, $2, NULL, now())
       ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET wrapped_key = NULL, erased_at = now()
         WHERE conversation_data_keys.erased_at IS NULL
       RETURNING (xmax = 0) AS inserted`,
      [ref.tenantId, ref.conversationId],
    )) as { inserted: boolean }[];
    const [row] = rows;
    if (!row) return 'already-erased';
    return row.inserted ? 'no-key' : 'erased';
  }

  private unwrap(ref: ConversationRef, wrapped: Buffer): Buffer {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(0, IV_BYTES));
      decipher.setAAD(wrapContext(ref)).setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      // Not an erasure: the wrong master key, or a row edited or moved. Never shown as [erased].
      throw new AppError(
        'stream-corrupted',
        `the data key of conversation ${ref.conversationId} does not unwrap`,
      );
    }
  }
}

/** Cache and map key of a conversation's data key. */
export function dataKeyId(ref: ConversationRef): string {
  return `${ref.tenantId}\u0000${ref.conversationId}`;
}

function wrapContext(ref: ConversationRef): Buffer {
  return Buffer.from(`convo-engine/data-key/v1\u0000${ref.tenantId}\u0000${ref.conversationId}`);
}
