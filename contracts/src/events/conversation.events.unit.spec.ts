import { MAX_MESSAGE_BYTES, MessageTextSchema } from './conversation.events';

const accepts = (text: string) => MessageTextSchema.safeParse(text).success;

describe('MessageTextSchema', () => {
  it('the limit is 32 KiB', () => {
    expect(MAX_MESSAGE_BYTES).toBe(32768);
  });

  it.each([
    ['empty', ''],
    ['spaces', '   '],
    ['whitespace and newlines', ' \n\t\r\n '],
    ['an ideographic space (U+3000)', '\u3000\u3000'],
  ])('rejects %s text', (_label, text) => {
    expect(accepts(text)).toBe(false);
  });

  it('accepts text with surrounding whitespace and keeps it as sent', () => {
    expect(MessageTextSchema.parse('  hi  ')).toBe('  hi  ');
  });

  describe('counts UTF-8 bytes, not characters', () => {
    it('accepts exactly 32768 bytes of ASCII', () => {
      expect(accepts('a'.repeat(32768))).toBe(true);
    });

    it('rejects 32769 bytes of ASCII', () => {
      expect(accepts('a'.repeat(32769))).toBe(false);
    });

    it('accepts 10922 Chinese characters (32766 bytes)', () => {
      const text = '中'.repeat(10922);
      expect(Buffer.byteLength(text, 'utf8')).toBe(32766);

      expect(accepts(text)).toBe(true);
    });

    it('rejects 10923 Chinese characters: 32769 bytes, though only a third of the limit in characters', () => {
      const text = '中'.repeat(10923);
      expect(Buffer.byteLength(text, 'utf8')).toBe(32769);

      expect(accepts(text)).toBe(false);
    });

    it('accepts ASCII topped up by one Chinese character to exactly 32768 bytes, rejects one byte more', () => {
      expect(accepts(`${'a'.repeat(32765)}中`)).toBe(true);
      expect(accepts(`${'a'.repeat(32766)}中`)).toBe(false);
    });

    it('counts a 4-byte emoji as 4 bytes: 8192 fit exactly, one more ASCII character does not', () => {
      const emoji = '😀'.repeat(8192);

      expect(accepts(emoji)).toBe(true);
      expect(accepts(`${emoji}a`)).toBe(false);
    });

    it('names the byte limit in the error', () => {
      const result = MessageTextSchema.safeParse('中'.repeat(10923));

      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message)).toContain(
        'text must be at most 32768 bytes of UTF-8',
      );
    });
  });
});
