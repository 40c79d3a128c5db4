import { ContentFilter } from './content-filter';
import { ContentFilterError } from './content-filter.error';
import { CUSTOMER_SERVICE_SENTENCES, SEED_WORD_LIST, syntheticWordList } from './testing';

const seed = ContentFilter.build(SEED_WORD_LIST);

/** What the customer sees of the matched spans: the original characters under each mask. */
function matchedText(text: string, filter = seed): string[] {
  return filter.scan(text).matches.map((match) => text.slice(match.start, match.end));
}

describe('the content filter', () => {
  describe('given obfuscated variants of listed words', () => {
    it.each([
      ['spaces', '请加我 微 信 聊', '加我 微 信'],
      ['dots and dashes', '加我微-信.', '加我微-信'],
      ['dotted Latin', 'add me: w.e.c.h.a.t', 'w.e.c.h.a.t'],
      ['spaced letters', '有事 v x 找我', 'v x'],
      ['full-width', '加ＶＸ：abc123', '加ＶＸ'],
      ['upper case', 'Add Me On WeChat please', 'Add Me On WeChat'],
      ['traditional characters', '我們可以私下聯繫', '私下聯繫'],
      ['zero-width joiners', '刷\u200d单\u200b返\u2060利', '刷\u200d单\u200b返\u2060利'],
      ['emoji between characters', '薇😀信聊', '薇😀信'],
      ['ideographic spaces', '扫码　加　我', '扫码　加　我'],
    ])('when the text uses %s, then the word is found on its original characters', (_, text, expected) => {
      expect(matchedText(text)).toContain(expected);
    });
  });

  it('given a match, when masked, then exactly its original characters (separators inside included) are starred', () => {
    expect(seed.scan('你好，加 我 微信吧').masked).toBe('你好，******吧');
    expect(seed.scan('ＱＱ号：123456').masked).toBe('***：123456');
    expect(seed.scan('星河😀优购和云帆商城').masked).toBe('*****和****');
  });

  it('given words of several categories, when found, then each match carries its category and action, and the strongest action wins', () => {
    const result = seed.scan('加我微信，刷单返利日赚千元，别去星河优购');

    expect(result.matches).toEqual([
      { category: 'contact-diversion', action: 'mask', start: 0, end: 4 },
      { category: 'fraud', action: 'handoff', start: 5, end: 9 },
      { category: 'fraud', action: 'handoff', start: 9, end: 13 },
      { category: 'competitor', action: 'mask', start: 16, end: 20 },
    ]);
    expect(result.action).toBe('handoff');
    expect(seed.scan('sensitive-topic-07 here').action).toBe('block');
    expect(seed.scan('nothing to see').action).toBe('none');
  });

  it('given actions overridden and a custom category, when scanned, then their actions apply', () => {
    const filter = ContentFilter.build(
      [
        { word: '加微信', category: 'contact-diversion' },
        { word: '内部价', category: 'custom-pricing' },
      ],
      { 'contact-diversion': 'block', 'custom-pricing': 'mask' },
    );

    expect(filter.scan('加微信').action).toBe('block');
    expect(filter.scan('这是内部价').matches).toEqual([
      { category: 'custom-pricing', action: 'mask', start: 2, end: 5 },
    ]);
  });

  it('given one word in two categories, when found, then both categories are reported', () => {
    const filter = ContentFilter.build([
      { word: 'Cartly', category: 'competitor' },
      { word: 'cart ly', category: 'fraud' },
    ]);

    expect(
      filter
        .scan('try cartly')
        .matches.map((m) => m.category)
        .sort(),
    ).toEqual(['competitor', 'fraud']);
  });

  describe('given Latin words', () => {
    it('when the word is part of a longer word, then it is not found', () => {
      expect(matchedText('I love beef jerky')).toEqual([]);
      expect(matchedText('a closer look')).toEqual([]);
      expect(matchedText('aqqb')).toEqual([]);
    });

    it('when digits follow letters, then the letters still count as a word', () => {
      expect(matchedText('qq号12345678 or QQ12345678')).toEqual(['qq号']);
      expect(matchedText('weixin123456')).toEqual(['weixin']);
    });

    it('when two whole words join across a space, then it is not a match, unless the listed phrase had that space', () => {
      expect(matchedText('can we chat tomorrow?')).toEqual([]);
      expect(matchedText('w e c h a t')).toEqual(['w e c h a t']);
      expect(matchedText('add me on wechat')).toContain('add me on wechat');
      expect(matchedText('add  me.on   we.chat')).toContain('add  me.on   we.chat');
    });
  });

  describe('given the seed list and 80k synthetic words', () => {
    const synthetic = syntheticWordList(80_000);
    let large: ContentFilter;
    beforeAll(() => {
      large = ContentFilter.build([...SEED_WORD_LIST, ...synthetic]);
    });

    it('when ordinary customer-service messages are scanned, then nothing is found', () => {
      expect(large.stats.entries).toBe(SEED_WORD_LIST.length + 80_000);
      expect(CUSTOMER_SERVICE_SENTENCES.length).toBeGreaterThanOrEqual(30);
      for (const sentence of CUSTOMER_SERVICE_SENTENCES) {
        expect({ sentence, matches: large.scan(sentence).matches }).toEqual({ sentence, matches: [] });
        expect(large.scan(sentence).masked).toBe(sentence);
      }
    });

    it('when a synthetic word is embedded in a sentence, then it is found', () => {
      for (const { word } of synthetic.filter((_, i) => i % 4999 === 0)) {
        const text = `请问 ${word} 在吗`;
        expect(matchedText(text, large)).toContain(word);
      }
    });
  });

  it('given a list, when built, then its stats name categories and sizes but no word', () => {
    const stats = JSON.stringify(seed.stats);

    expect(seed.stats).toMatchObject({ entries: SEED_WORD_LIST.length, longestWord: expect.any(Number) });
    for (const { word } of SEED_WORD_LIST) expect(stats).not.toContain(word);
  });

  describe('given a bad list', () => {
    it.each([
      [[{ word: '!!!', category: 'abuse' }], 'word-empty'],
      [[{ word: 'x', category: 'Not Kebab' }], 'category-invalid'],
      [[{ word: 'x', category: 'custom-unknown' }], 'category-without-action'],
    ])('when built, then it is refused with a code and without the word', (entries, code) => {
      const build = (): ContentFilter => ContentFilter.build(entries);

      expect(build).toThrow(ContentFilterError);
      expect(build).toThrow(expect.objectContaining({ code }));
    });
  });
});
