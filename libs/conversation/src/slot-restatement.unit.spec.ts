import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_INTENTS } from '@libs/tenant-settings';
import { restatesRequest } from './slot-restatement';

const ORDER = 'E20261130123456';
const refund = DEFAULT_INTENTS.find((intent) => intent.name === 'refund')!;
const words = { examples: refund.examples, otherValues: [ORDER] };

describe('a free-text slot value against the request it came with', () => {
  it.each([
    '退款',
    'I want a refund',
    'REFUND!',
    ORDER,
    `订单号${ORDER}`,
    `订单号${ORDER}，订单需要退款。`,
    `退款订单，订单号${ORDER}`,
    `订单号 ${ORDER.toLowerCase()} 是您想要退款的。`,
  ])('refuses what only restates the request or carries another slot: %s', (value) => {
    expect(restatesRequest(value, words)).toBe(true);
  });

  it.each(['买错尺码了', '我要退款，因为买错尺码了', 'found it cheaper elsewhere', '质量'])(
    'keeps a reason in other words: %s',
    (value) => {
      expect(restatesRequest(value, words)).toBe(false);
    },
  );

  it('looks for other slots’ values only when they are long enough not to match by chance', () => {
    expect(restatesRequest('broke after 2 days', { examples: [], otherValues: ['2'] })).toBe(false);
    expect(restatesRequest('，。', words)).toBe(false);
  });

  it('refuses none of the labelled reasons in the intents fixture', () => {
    const path = join(__dirname, '../../../test/fixtures/intents/utterances.jsonl');
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { intent: string; slots: Record<string, string | number> });
    const reasons = lines.flatMap((line) => {
      const intent = DEFAULT_INTENTS.find((candidate) => candidate.name === line.intent);
      return (intent?.slots ?? []).flatMap((slot) => {
        const gold = line.slots[slot.name];
        if (!intent || slot.type !== 'text' || typeof gold !== 'string') return [];
        const otherValues = Object.entries(line.slots)
          .filter(([name]) => name !== slot.name)
          .map(([, value]) => String(value));
        return [{ gold, words: { examples: intent.examples, otherValues } }];
      });
    });

    expect(reasons.length).toBeGreaterThan(40);
    expect(reasons.filter(({ gold, words }) => restatesRequest(gold, words)).map(({ gold }) => gold)).toEqual(
      [],
    );
  });
});
