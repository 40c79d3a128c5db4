import { sampleEntry, uuidFor } from './audit-log.fixture';
import {
  AUDIT_LEAF_FORMAT,
  auditEntryFromEvent,
  AuditEntrySchema,
  auditLeafHash,
  encodeAuditLeaf,
  hashEventData,
  hashEventDataBytes,
  type AuditEntry,
} from './audit-entry';
import { canonicalJson } from './canonical-json';
import { leafHash, sha256, toHex } from './merkle-hash';

const event = {
  eventId: uuidFor(1),
  type: 'conversation.message-received.v1',
  tenantId: 'acme',
  conversationId: uuidFor(9, 'cccc'),
  sequence: 3,
  occurredAt: '2026-01-01T08:00:00.000+08:00',
  data: { messageId: uuidFor(2), text: { ciphertext: 'q83vAA==', keyId: 'conv-9' }, channel: 'web' },
};

describe('audit entries', () => {
  describe('given a stored event', () => {
    const entry = auditEntryFromEvent(event, { index: 41, globalPosition: 9_007_199_254_740_993n });

    it('when it becomes an entry, then it keeps the envelope fields and a hash of the data, not the data', () => {
      expect(entry).toEqual({
        tenantId: 'acme',
        index: 41,
        globalPosition: '9007199254740993',
        eventId: event.eventId,
        type: event.type,
        streamId: event.conversationId,
        sequence: 3,
        occurredAt: '2026-01-01T00:00:00.000Z',
        dataHash: hashEventData(event.data),
      });
      expect(JSON.stringify(entry)).not.toContain('q83vAA');
    });

    it('then the leaf is the canonical JSON of the entry and its format, and the leaf hash is RFC 6962', () => {
      const leaf = encodeAuditLeaf(entry).toString('utf8');

      expect(leaf).toBe(
        `{"dataHash":"${entry.dataHash}","eventId":"${event.eventId}","format":"${AUDIT_LEAF_FORMAT}",` +
          `"globalPosition":"9007199254740993","index":41,"occurredAt":"2026-01-01T00:00:00.000Z",` +
          `"sequence":3,"streamId":"${event.conversationId}","tenantId":"acme","type":"${event.type}"}`,
      );
      expect(auditLeafHash(entry)).toEqual(leafHash(Buffer.from(leaf)));
    });

    it('then the fast leaf writer gives exactly the canonical JSON the format is defined as', () => {
      const odd = AuditEntrySchema.parse({
        ...entry,
        type: 'x.\u00e9\u{1F600}"\\\n.v1',
        index: 0,
        sequence: 2 ** 31,
      });

      for (const each of [entry, odd, sampleEntry(0), sampleEntry(12345)]) {
        expect(encodeAuditLeaf(each).toString('utf8')).toBe(
          canonicalJson({ ...each, format: AUDIT_LEAF_FORMAT }),
        );
      }
    });

    it('when the same event is read back from jsonb with its keys reordered, then the entry is the same', () => {
      const readBack = {
        ...event,
        data: { text: { keyId: 'conv-9', ciphertext: 'q83vAA==' }, channel: 'web', messageId: uuidFor(2) },
      };

      expect(auditEntryFromEvent(readBack, { index: 41, globalPosition: '9007199254740993' })).toEqual(entry);
    });

    it('when the data key is shredded later, then the entry still matches: it only ever saw the ciphertext', () => {
      const storedAfterErasure = structuredClone(event);

      expect(hashEventData(storedAfterErasure.data)).toBe(entry.dataHash);
    });
  });

  it('hashes data kept as bytes over the bytes themselves', () => {
    const ciphertext = Buffer.from('0123456789abcdef', 'hex');

    expect(hashEventDataBytes(ciphertext)).toBe(toHex(sha256(ciphertext)));
    expect(hashEventData({ a: 1 })).toBe(toHex(sha256(Buffer.from('{"a":1}'))));
  });

  describe('given any one field changed', () => {
    const entry = sampleEntry(5);
    const changes: [keyof AuditEntry, unknown][] = [
      ['tenantId', 'acme-cn'],
      ['index', 6],
      ['globalPosition', '136'],
      ['eventId', uuidFor(99)],
      ['type', 'conversation.closed.v1'],
      ['streamId', uuidFor(99, 'cccc')],
      ['sequence', entry.sequence + 1],
      ['occurredAt', '2026-01-01T00:00:05.001Z'],
      ['dataHash', hashEventData({ other: true })],
    ];

    it.each(changes)('when %s changes, then the leaf hash changes', (field, value) => {
      const changed = AuditEntrySchema.parse({ ...entry, [field]: value });

      expect(auditLeafHash(changed)).not.toEqual(auditLeafHash(entry));
    });

    it('covers every field of the entry', () => {
      expect(changes.map(([field]) => field).sort()).toEqual(Object.keys(entry).sort());
    });
  });

  describe('given malformed entries', () => {
    const entry = sampleEntry(0);

    it.each([
      ['an unknown field', { ...entry, extra: 1 }],
      ['a negative index', { ...entry, index: -1 }],
      ['a fractional sequence', { ...entry, sequence: 1.5 }],
      ['a numeric global position', { ...entry, globalPosition: 7 }],
      ['a global position with a leading zero', { ...entry, globalPosition: '07' }],
      ['a local-time instant', { ...entry, occurredAt: '2026-01-01T08:00:00.000+08:00' }],
      ['an upper-case data hash', { ...entry, dataHash: entry.dataHash.toUpperCase() }],
      ['a short data hash', { ...entry, dataHash: entry.dataHash.slice(2) }],
      ['a bad tenant id', { ...entry, tenantId: 'ACME' }],
    ])('when it has %s, then the schema refuses it', (_, value) => {
      expect(AuditEntrySchema.safeParse(value).success).toBe(false);
    });
  });
});
