import { z } from 'zod';

/** A tenant id is a short slug chosen when the tenant is created (e.g. `demo`, `acme-cn`). */
export const TenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'tenantId must be a lowercase slug of 2-63 characters');
export type TenantId = z.infer<typeof TenantIdSchema>;

/**
 * The largest stream sequence and global position the engine stores and accepts anywhere (API, store,
 * schemas): 2^53 - 1, the largest integer JSON readers in every language hold exactly. The store keeps
 * positions as 64-bit integers, so this bound, not the column, is the limit.
 */
export const MAX_STREAM_SEQUENCE = Number.MAX_SAFE_INTEGER;

/**
 * The id of a stream that is not a conversation, unique within its tenant: `<kind>` for a tenant's
 * singleton streams (`settings`), `<kind>:<id>` for one of many (`kb-document:faq-2024`).
 */
export const StreamNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(:[A-Za-z0-9._~-]{1,128})?$/, 'streamId must look like `<kind>` or `<kind>:<id>`');

/** The envelope's fields, one schema each, shared by every stream kind. */
export const ENVELOPE = {
  eventId: z.uuid(),
  type: z.string().regex(/^[a-z]+(\.[a-z-]+)+\.v\d+$/),
  tenantId: TenantIdSchema,
  sequence: z.number().int().min(1).max(MAX_STREAM_SEQUENCE),
  occurredAt: z.iso.datetime({ offset: true }),
  causationId: z.uuid().nullable(),
  correlationId: z.uuid(),
} as const;
const { eventId, type, sequence, occurredAt, causationId, correlationId } = ENVELOPE;

/**
 * The envelope every conversation event travels in, on Kafka and in the event store alike.
 * Fields are flat so that non-TypeScript readers can filter without unwrapping.
 */
export const EnvelopeFields = {
  /** Unique id of this event; consumers de-duplicate on it. */
  eventId,
  /** `<aggregate>.<fact>.v<version>`: a published version never changes shape. */
  type,
  tenantId: TenantIdSchema,
  /** Also the Kafka message key, so one conversation's events keep their order. */
  conversationId: z.uuid(),
  /** 1-based position within the conversation's stream, without gaps. */
  sequence,
  occurredAt,
  /** The event (or request) that caused this one; null for the first event of a flow. */
  causationId,
  /** Shared by every event of one flow (one customer turn, from message to reply). */
  correlationId,
} as const;

/** The same envelope for streams of other kinds: `streamId` (unique within the tenant) names the stream. */
export const StreamEnvelopeFields = {
  eventId,
  type,
  tenantId: TenantIdSchema,
  streamId: StreamNameSchema,
  sequence,
  occurredAt,
  causationId,
  correlationId,
} as const;

export const UnknownEnvelopeSchema = z.object({ ...EnvelopeFields, data: z.unknown() }).strict();
export const UnknownStreamEnvelopeSchema = z.object({ ...StreamEnvelopeFields, data: z.unknown() }).strict();

/** The envelope schema that applies to `json`: a `streamId` marks a non-conversation stream. */
export function envelopeSchemaFor(json: unknown) {
  const named = typeof json === 'object' && json !== null && 'streamId' in json;
  return named ? UnknownStreamEnvelopeSchema : UnknownEnvelopeSchema;
}
