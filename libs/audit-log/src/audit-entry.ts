import { hash } from 'node:crypto';
import { z } from 'zod';
import { StreamNameSchema, TenantIdSchema } from '@contracts';
import { canonicalJson } from './canonical-json';
import { isHexHash, sha256, toHex } from './merkle-hash';

/** The form Date.prototype.toISOString writes: one instant, one string. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * One leaf of a tenant's audit log: an event as the store holds it, minus its data, which is
 * represented by a hash. Only the hash, so that crypto-shredding (deleting the data key of a
 * conversation) leaves the leaf, and every proof through it, verifiable.
 */
export const AuditEntrySchema = z
  .object({
    tenantId: TenantIdSchema,
    /** Position in this tenant's log, 0-based and gapless: the leaf index in its Merkle tree. */
    index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /**
     * The event store's global_position (a bigint, hence a decimal string). Unique, but not increasing
     * along the log: the log follows read-all, which orders by writing transaction first.
     */
    globalPosition: z.string().regex(/^(0|[1-9]\d{0,18})$/, 'a non-negative decimal integer'),
    eventId: z.uuid(),
    type: z.string().min(1),
    /** The stream's id within the tenant: a conversation's uuid, or a tenant stream's name (`tenant-settings`). */
    streamId: z.union([z.uuid(), StreamNameSchema]),
    sequence: z.number().int().min(1),
    occurredAt: z.string().regex(ISO_INSTANT, 'an instant as Date.toISOString writes it'),
    /**
     * Hex SHA-256 of the event's data as stored: over its canonical JSON (see hashEventData), where
     * customer text is already ciphertext; or over the stored bytes (hashEventDataBytes) for data kept
     * as an opaque blob. Never over plaintext that erasure will make unreadable.
     */
    dataHash: z.string().refine(isHexHash, 'a lowercase hex SHA-256'),
  })
  .strict();
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** Names the leaf layout, so that a later layout (e.g. a person's read of raw data) cannot collide. */
export const AUDIT_LEAF_FORMAT = 'audit-entry.v1';

/**
 * The leaf bytes, by definition the UTF-8 of `canonicalJson({ ...entry, format: AUDIT_LEAF_FORMAT })`:
 * what a verifier in any language re-derives. Written out key by key in sorted order because this is
 * the hot path of appending and verifying (five times faster than the generic writer); a unit test
 * holds it to the definition. Expects a parsed entry: fields outside the schema are not encoded.
 */
export function encodeAuditLeaf(entry: AuditEntry): Buffer {
  return Buffer.from(leafJson(entry), 'utf8');
}

/** leafHash(encodeAuditLeaf(entry)) without the two buffers: U+0000 is the one byte 0x00 in UTF-8. */
export function auditLeafHash(entry: AuditEntry): Buffer {
  return hash('sha256', `\u0000${leafJson(entry)}`, 'buffer');
}

function leafJson(entry: AuditEntry): string {
  return (
    `{"dataHash":${JSON.stringify(entry.dataHash)},"eventId":${JSON.stringify(entry.eventId)},` +
    `"format":${JSON.stringify(AUDIT_LEAF_FORMAT)},"globalPosition":${JSON.stringify(entry.globalPosition)},` +
    `"index":${JSON.stringify(entry.index)},"occurredAt":${JSON.stringify(entry.occurredAt)},` +
    `"sequence":${JSON.stringify(entry.sequence)},"streamId":${JSON.stringify(entry.streamId)},` +
    `"tenantId":${JSON.stringify(entry.tenantId)},"type":${JSON.stringify(entry.type)}}`
  );
}

/** Hex SHA-256 of the canonical JSON of event data (jsonb reorders keys; canonical form does not care). */
export function hashEventData(data: unknown): string {
  return toHex(sha256(Buffer.from(canonicalJson(data), 'utf8')));
}

/** Hex SHA-256 of data stored as bytes, e.g. one ciphertext blob. */
export function hashEventDataBytes(data: Uint8Array): string {
  return toHex(sha256(data));
}

/** The fields of a stored event an entry is made of (a ConversationEvent has them all). */
export interface AuditableEvent {
  eventId: string;
  type: string;
  tenantId: string;
  /** Conversation events name their stream by conversationId, tenant streams by streamId. */
  conversationId?: string;
  streamId?: string;
  sequence: number;
  occurredAt: string;
  data: unknown;
}

export function auditEntryFromEvent(
  event: AuditableEvent,
  position: { index: number; globalPosition: string | bigint },
): AuditEntry {
  return AuditEntrySchema.parse({
    tenantId: event.tenantId,
    index: position.index,
    globalPosition: position.globalPosition.toString(),
    eventId: event.eventId,
    type: event.type,
    streamId: event.conversationId ?? event.streamId,
    sequence: event.sequence,
    // Envelopes may carry an offset; the leaf holds the one instant in one spelling.
    occurredAt: new Date(event.occurredAt).toISOString(),
    dataHash: hashEventData(event.data),
  });
}
