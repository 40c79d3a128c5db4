import { summarize, type ConversationSummary } from '../conversation-summaries';
import { CSV_COLUMNS, csvHeader, csvLine, toAnalystConversation } from './analyst-views';

const summary = summarize(undefined, {
  eventId: '00000000-0000-4000-8000-000000000001',
  type: 'conversation.started.v2',
  tenantId: 'acme',
  conversationId: '00000000-0000-4000-8000-0000000000aa',
  sequence: 1,
  occurredAt: '2026-01-05T09:00:00.000Z',
  causationId: null,
  correlationId: '00000000-0000-4000-8000-000000000001',
  data: { channel: 'web', locale: 'zh-CN', labels: {}, configVersion: 2 },
}) as ConversationSummary;

describe('analyst views as CSV', () => {
  it('has a column per field, lists joined by |, nulls empty', () => {
    const row = toAnalystConversation({ ...summary, intents: ['order_status', 'refund'], models: ['a,b'] });
    expect(csvHeader().trimEnd().split(',')).toEqual(CSV_COLUMNS);
    const cells = csvLine(row);
    expect(cells.endsWith('\r\n')).toBe(true);
    expect(cells).toContain(',order_status|refund,');
    expect(cells).toContain(',"a,b",');
    expect(cells.startsWith('00000000-0000-4000-8000-0000000000aa,open,,web,zh-CN,2,')).toBe(true);
  });

  it('quotes what a spreadsheet would run as a formula, and doubles quotes', () => {
    const row = toAnalystConversation({ ...summary, models: ['=HYPERLINK("x")'] });
    expect(csvLine(row)).toContain(`,"'=HYPERLINK(""x"")",`);
  });
});
