import { z } from 'zod';
import { ConversationEvent, ConversationEventSchema } from './events';
import { UnknownEnvelopeSchema } from './envelope';

export type ParseResult =
  | { ok: true; event: ConversationEvent }
  | {
      ok: false;
      reason: 'malformed-json' | 'invalid-envelope' | 'unknown-type' | 'invalid-data';
      detail: string;
    };

const KNOWN_TYPES = new Set<string>(ConversationEventSchema.options.map((option) => option.shape.type.value));

/** Validates raw bytes from a topic or the store. Never throws: the caller decides what a bad message means. */
export function parseEvent(raw: Buffer | string | null | undefined): ParseResult {
  if (raw === null || raw === undefined || raw.length === 0) {
    return { ok: false, reason: 'malformed-json', detail: 'empty message' };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch (error) {
    return { ok: false, reason: 'malformed-json', detail: (error as Error).message };
  }
  return validateEvent(json);
}

export function validateEvent(json: unknown): ParseResult {
  const envelope = UnknownEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    return { ok: false, reason: 'invalid-envelope', detail: z.prettifyError(envelope.error) };
  }
  if (!KNOWN_TYPES.has(envelope.data.type)) {
    return { ok: false, reason: 'unknown-type', detail: `unknown event type ${envelope.data.type}` };
  }
  const event = ConversationEventSchema.safeParse(json);
  if (!event.success) {
    return { ok: false, reason: 'invalid-data', detail: z.prettifyError(event.error) };
  }
  return { ok: true, event: event.data };
}

/** For producers: throws if an event we are about to publish does not match its own schema. */
export function assertValidEvent(json: unknown): ConversationEvent {
  const result = validateEvent(json);
  if (!result.ok)
    throw new Error(`refusing to publish an invalid event (${result.reason}): ${result.detail}`);
  return result.event;
}
