import { ContentFilter, type FilterMatch } from './content-filter';
import { FilterStream } from './filter-stream';
import { normaliseWord } from './text-normalizer';
import { CUSTOMER_SERVICE_SENTENCES, SEED_WORD_LIST } from './testing';

const MASK_ALL = {
  'contact-diversion': 'mask',
  abuse: 'mask',
  politics: 'mask',
  fraud: 'mask',
  competitor: 'mask',
} as const;
const masking = ContentFilter.build(SEED_WORD_LIST, MASK_ALL);

const TEXTS = [
  '您好，请加我 微 信，或者 ＱＱ号：123456，别去星河优购。',
  'Sure! add me on W.E.C.H.A.T or v x, we chat later; beef jerky is fine.',
  '我們可以私下聯繫嗎？刷\u200d单返利，日赚千元！',
  'qq号12345678 and weixin123 and aqqb',
  ...CUSTOMER_SERVICE_SENTENCES.slice(0, 4),
];

function streamed(
  filter: ContentFilter,
  chunks: readonly string[],
): { text: string; matches: FilterMatch[]; held: number[] } {
  const stream = new FilterStream(filter);
  let text = '';
  let written = '';
  const matches: FilterMatch[] = [];
  const held: number[] = [];
  for (const chunk of chunks) {
    written += chunk;
    const release = stream.write(chunk);
    text += release.text;
    matches.push(...release.matches);
    held.push(normaliseWord(written.slice(text.length)).length);
  }
  const last = stream.end();
  return { text: text + last.text, matches: [...matches, ...last.matches], held };
}

function chunksOf(text: string, sizes: readonly number[]): string[] {
  const chunks: string[] = [];
  for (let at = 0, i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(text.slice(at, at + size));
    at += size;
  }
  return chunks;
}

describe('the filter stream', () => {
  it('given a text split at any one point, when streamed, then it releases exactly what a whole scan masks', () => {
    for (const text of TEXTS) {
      const whole = masking.scan(text);
      for (let split = 0; split <= text.length; split++) {
        const result = streamed(masking, [text.slice(0, split), text.slice(split)]);
        expect({ text, split, out: result.text }).toEqual({ text, split, out: whole.masked });
        expect(sortMatches(result.matches)).toEqual(sortMatches(whole.matches));
      }
    }
  });

  it('given a text in chunks of one to three characters, when streamed, then the output and match offsets equal a whole scan', () => {
    for (const text of TEXTS) {
      for (const sizes of [[1], [2], [3], [1, 3, 2], [2, 1]]) {
        const result = streamed(masking, chunksOf(text, sizes));
        expect(result.text).toBe(masking.scan(text).masked);
        expect(sortMatches(result.matches)).toEqual(sortMatches(masking.scan(text).matches));
      }
    }
  });

  it('given any stream, when a chunk is written, then no more than the longest word is held back', () => {
    for (const text of TEXTS) {
      const { held } = streamed(masking, chunksOf(text, [1]));
      expect(Math.max(...held)).toBeLessThanOrEqual(masking.stats.longestWord);
    }
  });

  it('given ordinary text, when streamed, then it flows out as it arrives, holding back only a possible word start', () => {
    const stream = new FilterStream(ContentFilter.build([{ word: '加微信', category: 'contact-diversion' }]));

    expect(stream.write('您好，').text).toBe('您好，');
    expect(stream.write('订单已发货，请加').text).toBe('订单已发货，请');
    expect(stream.write('购物车').text).toBe('加购物车');
  });

  it('given a blocked word split across chunks, when the chunk completing it arrives, then the stream blocks before releasing any of it', () => {
    const stream = new FilterStream(ContentFilter.build(SEED_WORD_LIST));

    expect(stream.write('为了您的资金安全，请转入').text).toBe('为了您的资金安全，请转入');
    expect(stream.write('安 全').text).toBe('');
    const release = stream.write('账户，谢谢');

    expect(release).toEqual({
      text: '',
      matches: [{ category: 'fraud', action: 'handoff', start: 12, end: 17 }],
      action: 'handoff',
    });
    expect(stream.blocked).toBe(true);
    expect(stream.write('后面的内容').text).toBe('');
    expect(stream.end().text).toBe('');
  });

  it('given a word cut at the end of a chunk, when the next chunk shows it was part of a longer Latin word, then it is not masked', () => {
    const stream = new FilterStream(ContentFilter.build([{ word: 'jerk', category: 'abuse' }]));

    expect(stream.write('I like beef jerk').text).toBe('I like beef ');
    expect(stream.write('y, thanks').text).toBe('jerky, thanks');
    expect(stream.write(' you jerk').text).toBe(' you ');
    expect(stream.end()).toMatchObject({ text: '****', matches: [{ start: 30, end: 34 }] });
  });
});

function sortMatches(matches: readonly FilterMatch[]): FilterMatch[] {
  return [...matches].sort(
    (a, b) => a.start - b.start || a.end - b.end || a.category.localeCompare(b.category),
  );
}
