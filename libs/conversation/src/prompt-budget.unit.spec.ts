import fc from 'fast-check';
import {
  fitPrompt,
  promptBound,
  systemContent,
  tokenBound,
  TRUNCATION_MARKER,
  truncateUtf8,
  type ChatMessage,
  type PromptParts,
} from './prompt-budget';

const SYSTEM = 'You are a support assistant.';
const LATEST: ChatMessage = { role: 'user', content: 'where is my parcel?' };

function parts(overrides: Partial<PromptParts> = {}): PromptParts {
  return {
    systemPrompt: SYSTEM,
    knowledge: [],
    request: null,
    summary: null,
    closing: null,
    history: [],
    latest: LATEST,
    ...overrides,
  };
}

const turn = (index: number): ChatMessage => ({
  role: index % 2 === 0 ? 'user' : 'assistant',
  content: `turn ${index} `.padEnd(200, 'x'),
});

describe('fitPrompt', () => {
  it('given a prompt within the budget, when fitted, then nothing is cut', () => {
    const given = parts({
      history: [turn(0), turn(1)],
      knowledge: ['[1] Refunds: 3-5 days'],
      summary: 'asked',
    });

    const fitted = fitPrompt(given, 4096);

    expect(fitted.messages).toEqual([
      { role: 'system', content: systemContent(given) },
      turn(0),
      turn(1),
      LATEST,
    ]);
    expect(fitted.cut).toEqual({
      turns: 0,
      knowledge: 0,
      summary: false,
      latestTruncated: false,
      systemTruncated: false,
    });
  });

  it('given too many turns, when fitted, then the oldest turns go first and the knowledge stays', () => {
    const history = Array.from({ length: 10 }, (_, index) => turn(index));
    const given = parts({ history, knowledge: ['[1] Refunds: 3-5 days'] });
    const budget = promptBound([
      { role: 'system', content: systemContent(given) },
      ...history.slice(-3),
      LATEST,
    ]);

    const fitted = fitPrompt(given, budget);

    expect(fitted.messages.slice(1)).toEqual([...history.slice(-3), LATEST]);
    expect(fitted.messages[0]?.content).toContain('[1] Refunds');
    expect(fitted.cut.turns).toBe(7);
  });

  it('given no turns left to cut, when fitted, then the lowest-ranked excerpts go, then the summary', () => {
    const knowledge = [
      '[1] best '.padEnd(300, 'a'),
      '[2] next '.padEnd(300, 'b'),
      '[3] last '.padEnd(300, 'c'),
    ];
    const given = parts({ knowledge, summary: 'The customer asked about refunds.'.padEnd(300, '.') });
    const withTwo = promptBound([
      { role: 'system', content: systemContent({ ...given, knowledge: knowledge.slice(0, 1) }) },
      LATEST,
    ]);

    const fitted = fitPrompt(given, withTwo);
    const tighter = fitPrompt(given, withTwo - 500);

    expect(fitted.cut).toMatchObject({ knowledge: 2, summary: false });
    expect(fitted.messages[0]?.content).toContain('[1] best');
    expect(fitted.messages[0]?.content).not.toContain('[2] next');
    expect(tighter.cut).toMatchObject({ knowledge: 3, summary: true });
  });

  it('given cuts, when fitted, then the system prompt is still the first text of the prompt', () => {
    const given = parts({ history: [turn(0), turn(1)], knowledge: ['[1] a'.padEnd(500, 'a')], summary: 's' });

    const fitted = fitPrompt(given, 400);

    expect(fitted.messages[0]?.content.startsWith(SYSTEM)).toBe(true);
  });

  it('given a latest message bigger than the budget, when fitted, then it is truncated with a marker', () => {
    const huge: ChatMessage = { role: 'user', content: '退款'.repeat(2000) };

    const fitted = fitPrompt(parts({ latest: huge }), 1000);

    const latest = fitted.messages.at(-1);
    expect(latest?.content.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(huge.content.startsWith(latest?.content.slice(0, -TRUNCATION_MARKER.length) ?? '-')).toBe(true);
    expect(fitted.cut.latestTruncated).toBe(true);
    expect(promptBound(fitted.messages)).toBeLessThanOrEqual(1000);
  });

  it('given a budget too small for any prompt, when fitted, then it refuses rather than send one that fails', () => {
    expect(() => fitPrompt(parts(), 100)).toThrow(/prompt budget 100/);
  });

  it('given the same parts twice, when fitted, then the prompts are equal (replay)', () => {
    const given = parts({ history: [turn(0), turn(1), turn(2)], knowledge: ['[1] x'.padEnd(400, 'x')] });

    expect(fitPrompt(given, 700)).toEqual(fitPrompt(given, 700));
  });

  const text = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 400 }));
  const message = fc.record({ role: fc.constantFrom('user' as const, 'assistant' as const), content: text });
  const anyParts: fc.Arbitrary<PromptParts> = fc.record({
    systemPrompt: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1200 }),
    knowledge: fc.array(text, { maxLength: 6 }),
    request: fc.option(text),
    summary: fc.option(text),
    closing: fc.option(text),
    history: fc.array(message, { maxLength: 12 }),
    latest: fc.record({
      role: fc.constant('user' as const),
      content: fc.string({ unit: 'grapheme', maxLength: 3000 }),
    }),
  });

  it('property: the prompt never exceeds the budget and always ends with the latest message or its start', () => {
    fc.assert(
      fc.property(anyParts, fc.integer({ min: 320, max: 8192 }), (given, budget) => {
        const { messages, cut } = fitPrompt(given, budget);

        expect(promptBound(messages)).toBeLessThanOrEqual(budget);
        expect(messages[0]?.role).toBe('system');
        const latest = messages.at(-1);
        expect(latest?.role).toBe('user');
        if (cut.latestTruncated) {
          expect(latest?.content.endsWith(TRUNCATION_MARKER)).toBe(true);
          expect(
            given.latest.content.startsWith(latest?.content.slice(0, -TRUNCATION_MARKER.length) ?? '-'),
          ).toBe(true);
        } else {
          expect(latest?.content).toBe(given.latest.content);
        }
        if (!cut.systemTruncated) expect(messages[0]?.content.startsWith(given.systemPrompt)).toBe(true);
      }),
    );
  });
});

describe('truncateUtf8', () => {
  it('given a text of multi-byte characters, when truncated, then it is cut on a character boundary', () => {
    const cut = truncateUtf8('退款'.repeat(10), 4 + tokenBound(TRUNCATION_MARKER));

    expect(cut).toBe(`退${TRUNCATION_MARKER}`);
  });

  it('given a text that fits, when truncated, then it is unchanged', () => {
    expect(truncateUtf8('hello', 5)).toBe('hello');
  });
});
