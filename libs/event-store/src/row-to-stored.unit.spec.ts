import { rowToStored, type StoredEventRow } from './postgres-event-store';

const row: StoredEventRow = {
  event_id: 'aaaaaaaa-0000-4000-8000-000000000001',
  type: 'conversation.message-received.v1',
  tenant_id: 'acme',
  stream_id: 'bbbbbbbb-0000-4000-8000-000000000001',
  sequence: '2',
  occurred_at: new Date('2026-12-02T10:00:00.000Z'),
  causation_id: null,
  correlation_id: 'cccccccc-0000-4000-8000-000000000001',
  data: { messageId: 'dddddddd-0000-4000-8000-000000000001', text: 'hello' },
  global_position: '7',
};

describe('rowToStored', () => {
  it('gives the stored envelope as written, without validating it again', () => {
    expect(rowToStored(row)).toEqual({
      eventId: row.event_id,
      type: row.type,
      tenantId: 'acme',
      conversationId: row.stream_id,
      sequence: 2,
      occurredAt: '2026-12-02T10:00:00.000Z',
      causationId: null,
      correlationId: row.correlation_id,
      data: row.data,
    });
  });

  it('reads a type no version of the contracts knows as a corrupted stream', () => {
    expect(() => rowToStored({ ...row, type: 'conversation.made-up.v9' })).toThrow(
      expect.objectContaining({ code: 'stream-corrupted' }),
    );
  });
});
