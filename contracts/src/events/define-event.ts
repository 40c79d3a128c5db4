import { z } from 'zod';
import { ENVELOPE, StreamNameSchema } from '../envelope';

/**
 * The kinds of stream the engine keeps, each with the envelope field that names its stream (and its own
 * Kafka topic, see topics.ts). Conversations keep `conversationId`, their published shape; every later
 * kind uses `streamId`.
 */
const STREAM_ID_FIELD = {
  conversation: { conversationId: z.uuid() },
  'tenant-settings': { streamId: StreamNameSchema },
  access: { streamId: StreamNameSchema },
  'knowledge-document': {
    streamId: StreamNameSchema.refine((id) => id.startsWith('kb-document:'), 'kb-document:<documentId>'),
  },
  'content-filter': { streamId: StreamNameSchema },
} as const;

export type StreamKind = keyof typeof STREAM_ID_FIELD;
export const STREAM_KINDS = Object.keys(STREAM_ID_FIELD) as StreamKind[];

/**
 * Declares one versioned event type of one stream kind. The runtime schema is the single source of
 * truth: the TypeScript type is inferred from it and the committed JSON Schema is generated from it.
 */
export function defineEvent<
  const Kind extends StreamKind,
  const Name extends string,
  const Version extends number,
  Data extends z.ZodType,
>(kind: Kind, name: Name, version: Version, data: Data, description: string) {
  const type = `${name}.v${version}` as const;
  const schema = z
    .object({
      eventId: ENVELOPE.eventId,
      type: z.literal(type),
      tenantId: ENVELOPE.tenantId,
      ...STREAM_ID_FIELD[kind],
      sequence: ENVELOPE.sequence,
      occurredAt: ENVELOPE.occurredAt,
      causationId: ENVELOPE.causationId,
      correlationId: ENVELOPE.correlationId,
      data,
    })
    .strict()
    .meta({ title: type, description });
  return { kind, type, name, version, data, schema, description };
}
