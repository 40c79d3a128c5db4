import { KNOWN_CATEGORIES, type FilterEntry } from '../filter-entry';

/**
 * Characters synthetic words are drawn from: the CJK block minus its first 3,000 code points, where
 * most everyday characters sit, so a synthetic word almost never occurs in ordinary text by chance.
 */
const CJK_FROM = 0x4e00 + 3000;
const CJK_COUNT = 0x9fa5 - CJK_FROM;
const LATIN = 'abcdefghijklmnopqrstuvwxyz';

/**
 * `count` deterministic entries spread over the five known categories: CJK words of 3 to 6
 * characters, Latin words of 7 to 10 letters and mixed ones (a Latin prefix and CJK), in a ratio of
 * about 6:2:2. The same seed always gives the same list.
 */
export function syntheticWordList(count: number, seed = 0x2545f491): FilterEntry[] {
  let state = seed >>> 0 || 1;
  const next = (below: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
  const cjk = (length: number): string =>
    Array.from({ length }, () => String.fromCharCode(CJK_FROM + next(CJK_COUNT))).join('');
  const latin = (length: number): string => Array.from({ length }, () => LATIN[next(26)]).join('');
  return Array.from({ length: count }, (_, i) => {
    const kind = next(10);
    const word =
      kind < 6 ? cjk(3 + next(4)) : kind < 8 ? latin(7 + next(4)) : latin(2 + next(2)) + cjk(2 + next(2));
    return { word, category: KNOWN_CATEGORIES[i % KNOWN_CATEGORIES.length]! };
  });
}
