import { ReplyChunker } from './reply-chunker';

/** A clock the test moves by hand. */
class FakeClock {
  ms = 1_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

const FLUSH_MS = 150;
const MAX_CHARS = 10;

/** A chunker past its first chunk, which always leaves at once. */
function given() {
  const clock = new FakeClock();
  const chunker = new ReplyChunker(FLUSH_MS, MAX_CHARS, clock.now);
  chunker.push('>');
  return { clock, chunker };
}

describe('ReplyChunker', () => {
  it('sends the first text at once, however short, so the customer sees the reply start', () => {
    const clock = new FakeClock();
    const chunker = new ReplyChunker(FLUSH_MS, MAX_CHARS, clock.now);

    expect(chunker.push('H')).toBe('H');
    expect(chunker.push('i')).toBeNull();
  });

  describe('size-based flushes', () => {
    it('keeps tokens while the buffer is under maxChars and the interval has not passed', () => {
      const { chunker } = given();

      expect(chunker.push('Hel')).toBeNull();
      expect(chunker.push('lo, ')).toBeNull();
      expect(chunker.drain()).toBe('Hello, ');
    });

    it('flushes the whole buffer as soon as it reaches maxChars', () => {
      const { chunker } = given();
      chunker.push('Hello');

      expect(chunker.push('World')).toBe('HelloWorld');
      expect(chunker.drain()).toBeNull();
    });

    it('does not split a token: a token that overshoots maxChars leaves in one chunk', () => {
      const { chunker } = given();
      chunker.push('abc');

      expect(chunker.push('defghijklmno')).toBe('abcdefghijklmno');
    });

    it('counts a Chinese token by its characters, one each', () => {
      const { chunker } = given();

      expect(chunker.push('您好您好您好您好您')).toBeNull();
      expect(chunker.push('好')).toBe('您好您好您好您好您好');
    });
  });

  describe('time-based flushes', () => {
    it('flushes what it has once flushMs passed since the last flush, not before', () => {
      const { clock, chunker } = given();
      expect(chunker.push('a')).toBeNull();
      clock.advance(FLUSH_MS - 1);
      expect(chunker.push('b')).toBeNull();
      clock.advance(1);

      expect(chunker.push('c')).toBe('abc');
    });

    it('restarts the interval at every flush, including a size-based one', () => {
      const { clock, chunker } = given();
      clock.advance(100);
      expect(chunker.push('0123456789')).toBe('0123456789'); // by size at t+100
      clock.advance(100); // 200 since construction, only 100 since that flush

      expect(chunker.push('x')).toBeNull();
      clock.advance(50);
      expect(chunker.push('y')).toBe('xy');
    });
  });

  describe('drain', () => {
    it('returns the rest once, then nothing', () => {
      const { chunker } = given();
      chunker.push('tail');

      expect(chunker.drain()).toBe('tail');
      expect(chunker.drain()).toBeNull();
    });

    it('returns nothing when everything already left in chunks', () => {
      const { chunker } = given();
      chunker.push('0123456789');

      expect(chunker.drain()).toBeNull();
    });

    it('leaves the chunker usable: tokens after a drain start a fresh buffer', () => {
      const { chunker } = given();
      chunker.push('one');
      chunker.drain();
      chunker.push('two');

      expect(chunker.drain()).toBe('two');
    });
  });

  describe('never emits an empty chunk (chunk events require text)', () => {
    it('an empty token when the interval is due flushes nothing', () => {
      const { clock, chunker } = given();
      clock.advance(FLUSH_MS);

      expect(chunker.push('')).toBeNull();
    });

    it('an empty token after a flush, when the interval is due again, flushes nothing', () => {
      const { clock, chunker } = given();
      chunker.push('0123456789');
      clock.advance(FLUSH_MS * 3);

      expect(chunker.push('')).toBeNull();
      expect(chunker.drain()).toBeNull();
    });

    it('over a long irregular stream, chunks plus drain give back the text exactly, none empty', () => {
      const { clock, chunker } = given();
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const tokens = Array.from({ length: 500 }, () => 'xyz中😀 '.slice(0, random(5)));
      const chunks: string[] = [];

      for (const token of tokens) {
        clock.advance(random(80));
        const chunk = chunker.push(token);
        if (chunk !== null) chunks.push(chunk);
      }
      const rest = chunker.drain();
      if (rest !== null) chunks.push(rest);

      expect(chunks.join('')).toBe(tokens.join(''));
      expect(chunks.filter((chunk) => chunk.length === 0)).toEqual([]);
      expect(chunks.length).toBeGreaterThan(10);
    });
  });
});
