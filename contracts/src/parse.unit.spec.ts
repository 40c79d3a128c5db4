import { EVENT_DEFINITIONS } from './events';
import { parseEvent, validateEvent, validateStoredEvent, type ParseResult } from './parse';
import { SAMPLE_ENVELOPE, SAMPLE_TYPES, sampleEvent } from './sample-events.fixture';
import { currentTypeOf } from './upcast';

const raw = (value: unknown): string => JSON.stringify(value);

/** Stored types that read as a newer version: parsing them does not give back the same event. */
const SUPERSEDED: readonly string[] = ['conversation.started.v1', 'conversation.reply-completed.v1'];

function failure(result: ParseResult) {
  if (result.ok) throw new Error(`expected a failure, got a valid ${result.event.type}`);
  return result;
}

describe('parseEvent', () => {
  describe('given nothing to parse', () => {
    it.each([
      ['null', null],
      ['undefined', undefined],
      ['an empty string', ''],
      ['an empty buffer', Buffer.alloc(0)],
    ])('when the message is %s, then it is malformed-json "empty message"', (_label, input) => {
      expect(parseEvent(input)).toEqual({ ok: false, reason: 'malformed-json', detail: 'empty message' });
    });
  });

  describe('given bytes that are not JSON', () => {
    it.each([['not json'], ['{'], ['{"type": }'], ["{'single': 'quotes'}"]])(
      'when it is %j, then malformed-json',
      (input) => {
        const result = failure(parseEvent(input));

        expect(result.reason).toBe('malformed-json');
        expect(result.detail).not.toBe('');
      },
    );

    it('when it is a buffer of invalid UTF-8 JSON, then malformed-json', () => {
      expect(failure(parseEvent(Buffer.from([0x7b, 0xff, 0xfe]))).reason).toBe('malformed-json');
    });
  });

  describe('given JSON that is not an envelope', () => {
    it.each([['null'], ['42'], ['"text"'], ['[]'], ['{}']])(
      'when it is %s, then invalid-envelope',
      (input) => {
        expect(failure(parseEvent(input)).reason).toBe('invalid-envelope');
      },
    );

    it.each([
      'eventId',
      'type',
      'tenantId',
      'conversationId',
      'sequence',
      'occurredAt',
      'causationId',
      'correlationId',
      'data',
    ])('when %s is missing, then invalid-envelope naming the field', (field) => {
      const event = sampleEvent('conversation.closed.v1');
      delete event[field];

      const result = failure(parseEvent(raw(event)));

      expect(result.reason).toBe('invalid-envelope');
      expect(result.detail).toContain(field);
    });

    it.each([
      ['eventId', 'not-a-uuid'],
      ['tenantId', 'ACME'],
      ['tenantId', 'a'],
      ['conversationId', 12345],
      ['sequence', 0],
      ['sequence', 1.5],
      ['occurredAt', '2025-03-01T08:30:00'],
      ['occurredAt', 'yesterday'],
      ['causationId', 'nope'],
      ['type', 'ConversationClosed'],
    ])('when %s is %j, then invalid-envelope', (field, value) => {
      const event = { ...sampleEvent('conversation.closed.v1'), [field]: value };

      expect(failure(parseEvent(raw(event))).reason).toBe('invalid-envelope');
    });

    it('when the envelope has an extra field (strict), then invalid-envelope', () => {
      const event = { ...sampleEvent('conversation.closed.v1'), priority: 'high' };

      const result = failure(parseEvent(raw(event)));

      expect(result.reason).toBe('invalid-envelope');
      expect(result.detail).toContain('priority');
    });
  });

  describe('given a well-formed envelope', () => {
    it('when the type is not one we know, then unknown-type naming it', () => {
      const event = { ...sampleEvent('conversation.closed.v1'), type: 'conversation.escalated.v1' };

      expect(parseEvent(raw(event))).toEqual({
        ok: false,
        reason: 'unknown-type',
        detail: 'unknown event type conversation.escalated.v1',
      });
    });

    it('when a known type has a version we do not publish, then unknown-type', () => {
      const event = { ...sampleEvent('conversation.closed.v1'), type: 'conversation.closed.v2' };

      expect(failure(parseEvent(raw(event))).reason).toBe('unknown-type');
    });

    it.each([
      ['conversation.started.v1', { channel: 'fax', locale: null, labels: {} }],
      ['conversation.started.v1', { channel: 'web', locale: 'English', labels: {} }],
      ['conversation.message-received.v1', { messageId: '11111111-2222-4333-8444-555555555555', text: '' }],
      ['conversation.message-received.v1', { messageId: 'm-1', text: 'hi' }],
      [
        'conversation.reply-requested.v1',
        {
          turnId: '66666666-7777-4888-9999-aaaaaaaaaaaa',
          inReplyTo: [],
          prompt: [{ role: 'system', content: 's' }],
          maxTokens: 10,
        },
      ],
      [
        'conversation.reply-requested.v1',
        {
          turnId: '66666666-7777-4888-9999-aaaaaaaaaaaa',
          inReplyTo: ['11111111-2222-4333-8444-555555555555'],
          prompt: [{ role: 'tool', content: 's' }],
          maxTokens: 10,
        },
      ],
      [
        'conversation.reply-chunk-generated.v1',
        { turnId: '66666666-7777-4888-9999-aaaaaaaaaaaa', attempt: 0, chunkIndex: 0, text: 'x' },
      ],
      [
        'conversation.reply-chunk-generated.v1',
        { turnId: '66666666-7777-4888-9999-aaaaaaaaaaaa', attempt: 1, chunkIndex: 0, text: '' },
      ],
      [
        'conversation.reply-failed.v1',
        { turnId: '66666666-7777-4888-9999-aaaaaaaaaaaa', attempt: 1, code: 'oops', message: 'x' },
      ],
      ['conversation.closed.v1', { reason: 'bored' }],
      ['conversation.closed.v1', {}],
      ['conversation.closed.v1', null],
    ])('when %s carries bad data %j, then invalid-data', (type, data) => {
      const event = { ...SAMPLE_ENVELOPE, type, data };

      expect(failure(parseEvent(raw(event))).reason).toBe('invalid-data');
    });

    it.each(SAMPLE_TYPES)('when %s data has an extra field (strict), then invalid-data naming it', (type) => {
      const event = sampleEvent(type);
      event.data.note = 'extra';

      const result = failure(parseEvent(raw(event)));

      expect(result.reason).toBe('invalid-data');
      expect(result.detail).toContain('note');
    });

    it('when a nested object has an extra field (strict), then invalid-data', () => {
      const event = sampleEvent('conversation.reply-completed.v1');
      event.data.usage = { promptTokens: 1, completionTokens: 2, totalTokens: 3 };

      expect(failure(parseEvent(raw(event))).reason).toBe('invalid-data');
    });

    it.each(SAMPLE_TYPES.filter((type) => !SUPERSEDED.includes(type)))(
      'when a valid %s arrives as a string or a buffer, then it parses to the same event',
      (type) => {
        const event = sampleEvent(type);

        const fromString = parseEvent(raw(event));
        const fromBuffer = parseEvent(Buffer.from(raw(event), 'utf8'));

        expect(fromString).toEqual({ ok: true, event });
        expect(fromBuffer).toEqual(fromString);
      },
    );

    it('accepts an occurredAt with a numeric offset and a causationId', () => {
      const event = {
        ...sampleEvent('conversation.closed.v1'),
        occurredAt: '2025-03-01T16:30:00.123+08:00',
        causationId: SAMPLE_ENVELOPE.eventId.replace('9b2f', '0b2f'),
      };

      expect(parseEvent(raw(event)).ok).toBe(true);
    });
  });

  it('has a sample for every published event type', () => {
    expect([...SAMPLE_TYPES].sort()).toEqual(EVENT_DEFINITIONS.map((definition) => definition.type).sort());
  });
});

describe('validateEvent', () => {
  it('validateEvent checks an already-parsed object the same way', () => {
    expect(validateEvent(sampleEvent('conversation.closed.v1')).ok).toBe(true);
    expect(
      validateEvent({ ...sampleEvent('conversation.closed.v1'), type: 'conversation.gone.v1' }),
    ).toMatchObject({
      ok: false,
      reason: 'unknown-type',
    });
  });
});

describe('upcasting where stored events are read', () => {
  it('given a stored conversation.started.v1, validateEvent returns it as v2 under the default settings', () => {
    const v1 = sampleEvent('conversation.started.v1');

    const result = validateEvent(v1);

    expect(result).toEqual({
      ok: true,
      event: { ...v1, type: 'conversation.started.v2', data: { ...v1.data, configVersion: 0 } },
    });
  });

  it('currentTypeOf names, for every stored type, the type validateEvent reads it as', () => {
    for (const type of SAMPLE_TYPES) {
      const read = validateEvent(sampleEvent(type));

      expect(read.ok && read.event.type).toBe(currentTypeOf(type));
    }
  });

  it('given the same v1 bytes off a topic, parseEvent upcasts them the same way', () => {
    const v1 = sampleEvent('conversation.started.v1');

    expect(parseEvent(JSON.stringify(v1))).toEqual(validateEvent(v1));
  });

  it('leaves current versions untouched (the same object graph, byte for byte)', () => {
    for (const type of SAMPLE_TYPES.filter((name) => !SUPERSEDED.includes(name))) {
      const event = sampleEvent(type);

      expect(validateEvent(event)).toEqual({ ok: true, event });
    }
  });

  it('given a stored conversation.reply-completed.v1, reads it as v2 with one part, written by the primary', () => {
    const v1 = sampleEvent('conversation.reply-completed.v1');
    const text = v1.data.text as string;

    expect(validateEvent(v1)).toEqual({
      ok: true,
      event: {
        ...v1,
        type: 'conversation.reply-completed.v2',
        data: {
          ...v1.data,
          parts: [{ backend: 'primary', model: v1.data.model, start: 0, end: text.length }],
        },
      },
    });
  });

  it('validateStoredEvent keeps the version as stored, for the relay and the audit log', () => {
    const v1 = sampleEvent('conversation.started.v1');

    expect(validateStoredEvent(v1)).toEqual({ ok: true, event: v1 });
  });
});
