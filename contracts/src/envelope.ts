import { z } from 'zod';

/** A tenant id is a short slug chosen when the tenant is created (e.g. `demo`, `acme-cn`). */
export const TenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'tenantId must be a lowercase slug of 2-63 characters');
export type TenantId = z.infer<typeof TenantIdSchema>;

/**
 * The envelope every event travels in, on Kafka and in the event store alike.
 * Fields are flat so that non-TypeScript readers can filter without unwrapping.
 */
/**
 * The highest stream position the API accepts as input (`after`, `afterSequence`): what the event
 * store's `sequence` column holds. One constant, so raising the store's width raises every bound.
 */
export const MAX_STREAM_SEQUENCE = 2 ** 31 - 1;

export const EnvelopeFields = {
  /** Unique id of this event; consumers de-duplicate on it. */
  eventId: z.uuid(),
  /** `<aggregate>.<fact>.v<version>`: a published version never changes shape. */
  type: z.string().regex(/^[a-z]+(\.[a-z-]+)+\.v\d+$/),
  tenantId: TenantIdSchema,
  /** Also the Kafka message key, so one conversation's events keep their order. */
  conversationId: z.uuid(),
  /** 1-based position within the conversation's stream, without gaps. */
  sequence: z.number().int().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  /** The event (or request) that caused this one; null for the first event of a flow. */
  causationId: z.uuid().nullable(),
  /** Shared by every event of one flow (one customer turn, from message to reply). */
  correlationId: z.uuid(),
} as const;

export const UnknownEnvelopeSchema = z.object({ ...EnvelopeFields, data: z.unknown() }).strict();
export type UnknownEnvelope = z.infer<typeof UnknownEnvelopeSchema>;

/** Metadata the event store fills in when an event is appended. */
export type EnvelopeMetadata = Omit<UnknownEnvelope, 'type' | 'data'>;
