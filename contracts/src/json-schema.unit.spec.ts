import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020';
import { loadCommittedSchemas, SCHEMA_DIR } from '../scripts/committed-schemas';
import type { StoredEventType } from './events';
import { buildJsonSchemas } from './json-schema';
import { validateEvent } from './parse';
import { SAMPLE_TYPES, sampleEvent } from './sample-events.fixture';

/** The committed files, as a non-TypeScript reader of the topic would load them. */
const committedNames = readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.json'));
const committed = Object.fromEntries(
  committedNames.map((name) => [name, readFileSync(join(SCHEMA_DIR, name), 'utf8')]),
) as Record<string, string>;

function compileCommitted() {
  const { anyEvent, ofType } = loadCommittedSchemas();
  return {
    anyEvent,
    ofType: (type: StoredEventType): ValidateFunction => {
      const validate = ofType(type);
      if (!validate) throw new Error(`no committed schema for ${type}`);
      return validate;
    },
  };
}

describe('committed JSON Schemas (contracts/schemas)', () => {
  const schemas = compileCommitted();

  describe('are exactly what buildJsonSchemas() generates, so they cannot go stale', () => {
    const generated = buildJsonSchemas();

    it('with the same set of files', () => {
      expect([...committedNames].sort()).toEqual(Object.keys(generated).sort());
    });

    it.each(Object.keys(generated))('%s has the generator output, byte for byte', (name) => {
      // The same serialisation as contracts/scripts/generate-json-schemas.ts writes.
      expect(committed[name]).toBe(`${JSON.stringify(generated[name], null, 2)}\n`);
    });
  });

  describe('accept a valid sample of every type', () => {
    it.each(SAMPLE_TYPES)('%s: its own schema and the any-event schema accept it, as does zod', (type) => {
      const event = sampleEvent(type);

      expect(validateEvent(event).ok).toBe(true);
      expect(schemas.ofType(type)(event)).toBe(true);
      expect(schemas.anyEvent(event)).toBe(true);
    });

    it.each(SAMPLE_TYPES)('%s matches no other type schema (the any-event oneOf is unambiguous)', (type) => {
      const event = sampleEvent(type);
      const matching = SAMPLE_TYPES.filter((other) => schemas.ofType(other)(event));

      expect(matching).toEqual([type]);
    });
  });

  describe('reject invalid events, agreeing with the zod schema', () => {
    type Breaker = (event: ReturnType<typeof sampleEvent>) => void;
    const invalid: [string, StoredEventType, Breaker][] = [
      ['a missing eventId', 'conversation.closed.v1', (e) => delete e.eventId],
      ['a missing data', 'conversation.closed.v1', (e) => delete (e as Record<string, unknown>).data],
      ['an extra envelope field', 'conversation.closed.v1', (e) => (e.extra = 1)],
      ['a non-uuid conversationId', 'conversation.closed.v1', (e) => (e.conversationId = 'conv-1')],
      ['an upper-case tenantId', 'conversation.closed.v1', (e) => (e.tenantId = 'ACME')],
      ['sequence 0', 'conversation.closed.v1', (e) => (e.sequence = 0)],
      ['a fractional sequence', 'conversation.closed.v1', (e) => (e.sequence = 2.5)],
      ['occurredAt without a zone', 'conversation.closed.v1', (e) => (e.occurredAt = '2025-03-01T08:30:00')],
      ['an unknown type', 'conversation.closed.v1', (e) => (e.type = 'conversation.escalated.v1')],
      ['an unknown channel', 'conversation.started.v2', (e) => (e.data.channel = 'fax')],
      ['a negative configVersion', 'conversation.started.v2', (e) => (e.data.configVersion = -1)],
      ['a v2 start without configVersion', 'conversation.started.v2', (e) => delete e.data.configVersion],
      ['a v1 start with a configVersion', 'conversation.started.v1', (e) => (e.data.configVersion = 1)],
      [
        'a conversationId on a tenant event',
        'tenant.settings-updated.v1',
        (e) => (e.conversationId = e.streamId),
      ],
      ['a malformed streamId', 'tenant.settings-updated.v1', (e) => (e.streamId = 'Settings!')],
      ['an unknown setting', 'tenant.settings-updated.v1', (e) => (e.data.settings = { colour: 'red' })],
      [
        'a history limit over 100',
        'tenant.settings-updated.v1',
        (e) => (e.data.settings = { historyLimit: 101 }),
      ],
      [
        'a label value over 256 characters',
        'conversation.started.v2',
        (e) => (e.data.labels = { q: 'x'.repeat(257) }),
      ],
      ['an empty message text', 'conversation.message-received.v1', (e) => (e.data.text = '')],
      [
        'a message text over 32768 characters',
        'conversation.message-received.v1',
        (e) => (e.data.text = 'a'.repeat(32769)),
      ],
      ['an empty inReplyTo', 'conversation.reply-requested.v1', (e) => (e.data.inReplyTo = [])],
      ['an empty prompt', 'conversation.reply-requested.v1', (e) => (e.data.prompt = [])],
      [
        'a prompt role "tool"',
        'conversation.reply-requested.v1',
        (e) => (e.data.prompt = [{ role: 'tool', content: 'x' }]),
      ],
      ['maxTokens over 4096', 'conversation.reply-requested.v1', (e) => (e.data.maxTokens = 5000)],
      ['an empty chunk text', 'conversation.reply-chunk-generated.v1', (e) => (e.data.text = '')],
      ['a negative chunkIndex', 'conversation.reply-chunk-generated.v1', (e) => (e.data.chunkIndex = -1)],
      ['attempt 0', 'conversation.reply-completed.v1', (e) => (e.data.attempt = 0)],
      ['an unknown finishReason', 'conversation.reply-completed.v1', (e) => (e.data.finishReason = 'tired')],
      [
        'negative usage',
        'conversation.reply-completed.v1',
        (e) => (e.data.usage = { promptTokens: -1, completionTokens: 0 }),
      ],
      ['an unknown failure code', 'conversation.reply-failed.v1', (e) => (e.data.code = 'oops')],
      [
        'a failure message over 2000 characters',
        'conversation.reply-failed.v1',
        (e) => (e.data.message = 'x'.repeat(2001)),
      ],
      ['an unknown close reason', 'conversation.closed.v1', (e) => (e.data.reason = 'bored')],
    ];

    for (const type of SAMPLE_TYPES) {
      invalid.push(['an extra data field', type, (e) => (e.data.extra = 1)]);
    }

    it.each(invalid)('%s (%s)', (_label, type, breakIt) => {
      const event = sampleEvent(type);
      breakIt(event);

      expect(validateEvent(event).ok).toBe(false);
      expect(schemas.anyEvent(event)).toBe(false);
      expect(schemas.ofType(type)(event)).toBe(false);
    });
  });
});
