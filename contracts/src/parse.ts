import { z } from 'zod';
import { EVENT_DEFINITIONS, StoredEventSchema, type EngineEvent, type StoredEvent } from './events';
import { envelopeSchemaFor } from './envelope';
import { upcast } from './upcast';

export type ParseFailure = {
  ok: false;
  reason: 'malformed-json' | 'invalid-envelope' | 'unknown-type' | 'invalid-data';
  detail: string;
};
export type ParseResult = { ok: true; event: EngineEvent } | ParseFailure;
export type StoredParseResult = { ok: true; event: StoredEvent } | ParseFailure;

const KNOWN_TYPES = new Set<string>(EVENT_DEFINITIONS.map((definition) => definition.type));

/**
 * Validates raw bytes from a topic and upcasts them to the current version of their type. Never
 * throws: the caller decides what a bad message means.
 */
export function parseEvent(raw: Buffer | string | null | undefined): ParseResult {
  const result = parseStoredEvent(raw);
  return result.ok ? { ok: true, event: upcast(result.event) } : result;
}

/**
 * Validates raw bytes from a topic as published, whatever the version, without upcasting: for readers
 * that must open sealed personal data first (an upcaster may read it). Never throws.
 */
export function parseStoredEvent(raw: Buffer | string | null | undefined): StoredParseResult {
  if (raw === null || raw === undefined || raw.length === 0) {
    return { ok: false, reason: 'malformed-json', detail: 'empty message' };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch (error) {
    return { ok: false, reason: 'malformed-json', detail: (error as Error).message };
  }
  return validateStoredEvent(json);
}

/** Validates an event of any published version and upcasts it to the current one. */
export function validateEvent(json: unknown): ParseResult {
  const result = validateStoredEvent(json);
  return result.ok ? { ok: true, event: upcast(result.event) } : result;
}

/** Validates an event exactly as stored or published, whatever its version; no upcasting. */
export function validateStoredEvent(json: unknown): StoredParseResult {
  const envelope = envelopeSchemaFor(json).safeParse(json);
  if (!envelope.success) {
    return { ok: false, reason: 'invalid-envelope', detail: z.prettifyError(envelope.error) };
  }
  if (!KNOWN_TYPES.has(envelope.data.type)) {
    return { ok: false, reason: 'unknown-type', detail: `unknown event type ${envelope.data.type}` };
  }
  const event = StoredEventSchema.safeParse(json);
  if (!event.success) {
    return { ok: false, reason: 'invalid-data', detail: z.prettifyError(event.error) };
  }
  return { ok: true, event: event.data };
}
