import { canonicalJson, CanonicalJsonError } from './canonical-json';

describe('canonicalJson', () => {
  describe('given the same value built in different ways', () => {
    it('when keys come in another order (as jsonb returns them), then the text is the same', () => {
      const written = { type: 'x', data: { b: 1, a: [true, null], 'a-b': 'z' } };
      const readBack = { data: { 'a-b': 'z', a: [true, null], b: 1 }, type: 'x' };

      expect(canonicalJson(readBack)).toBe(canonicalJson(written));
      expect(canonicalJson(written)).toBe('{"data":{"a":[true,null],"a-b":"z","b":1},"type":"x"}');
    });

    it('sorts keys by UTF-16 code units (the RFC 8785 section 3.2.3 example), not by code point or locale', () => {
      const value = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };

      // Read the keys off the text: JSON.parse would reorder "1" first whatever the text says.
      const keys = canonicalJson(value).match(/"([^"]|\\.)*":/g);

      expect(keys).toEqual([
        '"\\r":',
        '"1":',
        '"\u0080":',
        '"\u00f6":',
        '"\u20ac":',
        '"\ud83d\ude00":',
        '"\ufb33":',
      ]);
    });

    it('writes numbers the ECMAScript way RFC 8785 adopts', () => {
      expect(canonicalJson([1.0, -0, 1e21, 1e-7, 0.1 + 0.2, 123456789012345680000, 5e-324])).toBe(
        '[1,0,1e+21,1e-7,0.30000000000000004,123456789012345680000,5e-324]',
      );
    });

    it('escapes strings as JSON.stringify does: only quotes, backslashes and control characters', () => {
      expect(canonicalJson('a"b\\c\n\u0001€你好')).toBe('"a\\"b\\\\c\\n\\u0001€你好"');
    });

    it('leaves out undefined members, as JSON does, so an absent optional field hashes like a missing one', () => {
      expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
    });

    it('accepts objects without a prototype (JSON.parse output re-serialised)', () => {
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });

      expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
    });
  });

  describe('given values JSON cannot hold', () => {
    it.each([
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['a bigint', 1n],
      ['a Date', new Date(0)],
      ['a Buffer', Buffer.from('x')],
      ['a function', () => 1],
      ['undefined at the top', undefined],
      ['undefined in an array', [1, undefined]],
    ])('when it meets %s, then it throws instead of guessing', (_, value) => {
      expect(() => canonicalJson({ nested: [value] })).toThrow(CanonicalJsonError);
    });

    it('names where the bad value is', () => {
      expect(() => canonicalJson({ a: { b: [0, NaN] } })).toThrow('at $.a.b[1]');
    });
  });

  describe('given an indent', () => {
    it('lays the value out like JSON.stringify(sorted, null, indent), one fixed form', () => {
      const value = { b: [1, { d: null, c: [] }], a: {} };

      expect(canonicalJson(value, { indent: 2 })).toBe(
        JSON.stringify({ a: {}, b: [1, { c: [], d: null }] }, null, 2),
      );
    });
  });

  it('round-trips: parsing the text and writing it again gives the same text', () => {
    const value = { z: [1, 'two', { three: 3.5, four: [null, false] }], a: 'ü\u2028' };
    const text = canonicalJson(value);

    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });
});
