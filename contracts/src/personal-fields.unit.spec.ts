import { EVENT_DEFINITIONS, type StoredEventType } from './events';
import { validateStoredEvent } from './parse';
import { hasPersonalFields, mapPersonalFields, PERSONAL_FIELDS } from './personal-fields';
import { SAMPLE_DATA, sampleEvent } from './sample-events.fixture';
import { ERASED_MARKER, isSealed, sealedLength } from './sealed-text';

const FAKE_SEALED = `sealed:v1:${'A'.repeat(16)}:QUJD:${'B'.repeat(22)}`;
const TYPES = EVENT_DEFINITIONS.map<StoredEventType>((definition) => definition.type);

/** Every string leaf of a value, for "no plaintext left" checks. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(strings);
}

describe('PERSONAL_FIELDS', () => {
  it.each(TYPES)('%s: every personal path accepts the sealed form and the marker', (type) => {
    for (const replacement of [FAKE_SEALED, ERASED_MARKER]) {
      const event = sampleEvent(type);
      event.data = mapPersonalFields(type, event.data, () => replacement);
      const result = validateStoredEvent(event);
      expect(result.ok ? 'valid' : result.detail).toBe('valid');
    }
  });

  it.each(TYPES.filter(hasPersonalFields))('%s: the sample keeps no personal text once mapped', (type) => {
    const originals = new Set<string>();
    mapPersonalFields(type, SAMPLE_DATA[type], (text) => (originals.add(text), text));
    const sealed = mapPersonalFields(type, SAMPLE_DATA[type], () => FAKE_SEALED);

    for (const text of strings(sealed)) expect(originals.has(text) && text !== FAKE_SEALED).toBe(false);
  });

  it('walks arrays and records, and leaves numbers, nulls, absent paths and the input untouched', () => {
    const data = {
      task: { kind: 'summarize', previousSummary: null, transcript: [{ role: 'customer', text: 'hi' }] },
    };
    const result = mapPersonalFields('conversation.model-task-requested.v1', data, (text) => `<${text}>`);
    expect(result).toEqual({
      task: { kind: 'summarize', previousSummary: null, transcript: [{ role: 'customer', text: '<hi>' }] },
    });
    expect(data.task.transcript[0]!.text).toBe('hi');
    const slots = { result: { kind: 'extract-slots', slots: { order_id: 'A1', amount: 12, date: null } } };
    expect(mapPersonalFields('conversation.model-task-completed.v1', slots, () => 'x')).toEqual({
      result: { kind: 'extract-slots', slots: { order_id: 'x', amount: 12, date: null } },
    });
  });

  it('declares personal fields for the customer-text events, and none for unknown types', () => {
    const texts: string[] = [];
    mapPersonalFields(
      'conversation.reply-requested.v1',
      SAMPLE_DATA['conversation.reply-requested.v1'],
      (t) => {
        texts.push(t);
        return t;
      },
    );
    expect(texts).toEqual(['You are a support assistant.', '我的快递什么时候到？']);
    expect(PERSONAL_FIELDS['conversation.message-received.v1']).toEqual([['text']]);
    expect(hasPersonalFields('conversation.erased.v1')).toBe(false);
    expect(hasPersonalFields('conversation.unknown.v1')).toBe(false);
  });
});

describe('sealed form', () => {
  it('is recognised by its shape only', () => {
    expect(isSealed(FAKE_SEALED)).toBe(true);
    expect(isSealed('sealed:v1:not-really')).toBe(false);
    expect(isSealed(ERASED_MARKER)).toBe(false);
  });

  it('the largest customer message still fits its sealed bound', () => {
    // 32 KiB of text: 12-byte IV and 16-byte tag in base64url around 43,691 characters of ciphertext.
    expect(sealedLength(32 * 1024)).toBe(10 + 16 + 1 + 43_691 + 1 + 22);
  });
});
