import { ContentFilter } from './content-filter';
import { DoubleArrayAutomaton } from './double-array-automaton';

/** Deterministic words over a tiny CJK alphabet, so that keys overlap and share prefixes and suffixes. */
function randomWords(count: number, alphabet: string, seed: number): string[] {
  let state = seed;
  const next = (below: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(6) }, () => alphabet[next(alphabet.length)]).join(''),
  );
}

/** Every occurrence of every word, by brute force: the oracle the automaton is held to. */
function occurrences(words: readonly string[], text: string): string[] {
  const found = new Set<string>();
  for (const word of new Set(words)) {
    for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1))
      found.add(`${at}-${at + word.length}`);
  }
  return [...found].sort();
}

describe('the double-array automaton', () => {
  it('given thousands of overlapping words, when texts are scanned, then it finds exactly what brute force finds', () => {
    const alphabet = '甲乙丙丁戊己庚辛';
    const words = [...new Set(randomWords(3000, alphabet, 7))];
    const filter = ContentFilter.build(words.map((word) => ({ word, category: 'abuse' })));

    for (const text of randomWords(300, alphabet, 11).map((_, i, all) => all.slice(i, i + 20).join(''))) {
      const found = [...new Set(filter.scan(text).matches.map((m) => `${m.start}-${m.end}`))].sort();
      expect(found).toEqual(occurrences(words, text));
    }
  });

  it('given a large alphabet, when built, then every word is found on its own', () => {
    const words = Array.from({ length: 5000 }, (_, i) =>
      String.fromCharCode(0x4e00 + i, 0x4e00 + ((i * 7919) % 5000)),
    );
    const automaton = DoubleArrayAutomaton.build(words);
    const filter = ContentFilter.build(words.map((word) => ({ word, category: 'fraud' })));

    expect(automaton.stateCount).toBe(1 + new Set(words.map((w) => w[0])).size + words.length);
    for (const word of words.filter((_, i) => i % 97 === 0)) {
      expect(filter.scan(`〔${word}〕`).matches).toContainEqual(
        expect.objectContaining({ start: 1, end: 3 }),
      );
    }
  });

  it('given no words, when a text is scanned, then nothing is found', () => {
    expect(ContentFilter.build([]).scan('任何文字 any text').matches).toEqual([]);
  });
});
