import { ContentFilterError } from './content-filter.error';
import { DoubleArrayAutomaton } from './double-array-automaton';
import {
  actionOf,
  DEFAULT_CATEGORY_ACTIONS,
  strongerAction,
  type CategoryActions,
  type FilterAction,
  type FilterEntry,
} from './filter-entry';
import {
  DROPPED_SPACE,
  isDroppedAstral,
  isHighSurrogate,
  isLowSurrogate,
  normalisationTable,
  normaliseWordWithSpaces,
} from './text-normalizer';

/** A listed word found in the text: where (original UTF-16 offsets, end exclusive) and why, never which word. */
export interface FilterMatch {
  readonly category: string;
  readonly action: FilterAction;
  readonly start: number;
  readonly end: number;
}

export interface ScanResult {
  readonly matches: readonly FilterMatch[];
  /** The strongest action among the matches, `none` without any. */
  readonly action: FilterAction | 'none';
  /** The text with every matched span (separators inside it included) masked, one `*` per code point. */
  readonly masked: string;
}

/** What a list compiled to; safe to log (no words). */
export interface FilterStats {
  readonly entries: number;
  /** Distinct normalised words. */
  readonly keys: number;
  readonly states: number;
  readonly bytes: number;
  /** Longest normalised word, in UTF-16 units: the most a stream holds back (plus separators). */
  readonly longestWord: number;
  readonly categories: readonly string[];
}

/** @internal What one pass over a text finds; FilterStream uses it to decide what it may release. */
export interface Located {
  readonly matches: FilterMatch[];
  /** Offset from which text must be held back because a match could still end past the text. */
  readonly holdFrom: number;
  /** Offset of the last kept character before holdFrom: a later chunk's left context. */
  readonly contextFrom: number;
}

// Gap before a kept unit: which separators were dropped between it and the previous kept unit.
const GAP_NONE = 0;
const GAP_MARK = 1;
const GAP_SPACE = 2;

/**
 * Scratch arrays shared by every scan: scans are synchronous and never nest, so one set serves all
 * filters and no call allocates per character.
 */
let units = new Uint16Array(4096);
let starts = new Int32Array(4096);
let gaps = new Uint8Array(4096);
let hits: Int32Array = new Int32Array(256);

/**
 * A compiled sensitive-word list. Words and text go through the same normalisation (text-normalizer.ts),
 * so "微 信", "微-信", "w.e.c.h.a.t", "ＷＥＣＨＡＴ" and "微\u200d信" all meet the listed word.
 *
 * Dropping separators can join characters that were apart. Chinese has no spaces, so a listed word
 * already matches wherever its characters stand side by side, and dropped punctuation adds little to
 * that. Latin text is different, so a match made of Latin letters or digits must also:
 * - not cut a Latin token: the characters just outside it, when adjacent (no separator) and of the same
 *   kind (letters, or digits), make it part of a longer word ("qq" is not found in "aqqb", but is in
 *   "qq123456");
 * - not join two whole words across whitespace: when whitespace separates two Latin tokens inside the
 *   match and both are two or more characters long, it is two words ("we chat" is not "wechat",
 *   while "w e c h a t", "we.chat" and "v x" are). The cost: "wei xin" spelled as two pinyin
 *   syllables is missed; list the variants that matter ("weixin", "vx", "wx").
 */
export class ContentFilter {
  private readonly norm = normalisationTable();

  private constructor(
    private readonly automaton: DoubleArrayAutomaton,
    private readonly keyLengths: Uint16Array,
    /** Categories of key i: categoryIndex[categoryStart[i] .. categoryStart[i + 1]). */
    private readonly categoryStart: Int32Array,
    private readonly categoryIndex: Uint16Array,
    private readonly categories: readonly string[],
    private readonly actions: readonly FilterAction[],
    /** Where a listed phrase had whitespace between Latin words (key index to positions in the key). */
    private readonly keySpaces: ReadonlyMap<number, readonly number[]>,
    readonly stats: FilterStats,
  ) {}

  /**
   * Compiles a list. Every entry's category needs an action (the defaults, or `actions`); a word that
   * normalises to nothing (only punctuation) is refused. Errors name the category and the entry's
   * index, never the word.
   */
  static build(
    entries: readonly FilterEntry[],
    actions: CategoryActions = DEFAULT_CATEGORY_ACTIONS,
  ): ContentFilter {
    const categoryIds = new Map<string, number>();
    const categoryActions: FilterAction[] = [];
    const keys = new Map<string, Set<number>>();
    const spacesOf = new Map<string, Set<number>>();
    entries.forEach((entry, index) => {
      let id = categoryIds.get(entry.category);
      if (id === undefined) {
        categoryActions.push(actionOf(entry.category, actions));
        id = categoryIds.size;
        categoryIds.set(entry.category, id);
      }
      const { key, spaces } = normaliseWordWithSpaces(entry.word);
      if (key.length === 0) {
        throw new ContentFilterError('word-empty', `entry ${index} has no letters after normalisation`, {
          index,
          category: entry.category,
        });
      }
      let ids = keys.get(key);
      if (ids === undefined) keys.set(key, (ids = new Set()));
      ids.add(id);
      if (spaces.length > 0) {
        let known = spacesOf.get(key);
        if (known === undefined) spacesOf.set(key, (known = new Set()));
        for (const at of spaces) known.add(at);
      }
    });
    const keyList = [...keys.keys()];
    const automaton = DoubleArrayAutomaton.build(keyList);
    const keyLengths = Uint16Array.from(keyList, (key) => key.length);
    const categoryStart = new Int32Array(keyList.length + 1);
    const categoryIndex: number[] = [];
    keyList.forEach((key, i) => {
      categoryStart[i] = categoryIndex.length;
      categoryIndex.push(...keys.get(key)!);
    });
    categoryStart[keyList.length] = categoryIndex.length;
    const categories = [...categoryIds.keys()];
    const keySpaces = new Map(
      keyList.flatMap((key, i) => (spacesOf.has(key) ? [[i, [...spacesOf.get(key)!]]] : [])),
    );
    const stats: FilterStats = {
      entries: entries.length,
      keys: keyList.length,
      states: automaton.stateCount,
      bytes:
        automaton.byteLength + keyLengths.byteLength + categoryStart.byteLength + categoryIndex.length * 2,
      longestWord: keyLengths.reduce((max, length) => Math.max(max, length), 0),
      categories,
    };
    return new ContentFilter(
      automaton,
      keyLengths,
      categoryStart,
      Uint16Array.from(categoryIndex),
      categories,
      categoryActions,
      keySpaces,
      stats,
    );
  }

  scan(text: string): ScanResult {
    const { matches } = this.locate(text, true);
    return { matches, action: strongestAction(matches), masked: maskSpans(text, matches) };
  }

  /**
   * @internal One pass over `text`. With `final` false more text may follow: matches that the next
   * characters could still change are left out, and `holdFrom` says where the undecided part begins.
   */
  locate(text: string, final: boolean): Located {
    const { codeOf, base, check, fail, output, outputLink, depth } = this.automaton;
    const norm = this.norm;
    const length = text.length;
    if (units.length < length) {
      const size = Math.max(length, units.length * 2);
      units = new Uint16Array(size);
      starts = new Int32Array(size);
      gaps = new Uint8Array(size);
    }
    let state = 0;
    let count = 0;
    let gap = GAP_NONE;
    let hitCount = 0;
    for (let i = 0; i < length; i++) {
      const unit = text.charCodeAt(i);
      const mapped = norm[unit]!;
      if (mapped <= DROPPED_SPACE) {
        if (mapped === DROPPED_SPACE) gap = GAP_SPACE;
        else if (gap === GAP_NONE) gap = GAP_MARK;
        continue;
      }
      if (isHighSurrogate(unit) && i + 1 < length && isLowSurrogate(text.charCodeAt(i + 1))) {
        if (isDroppedAstral(text.codePointAt(i)!)) {
          if (gap === GAP_NONE) gap = GAP_MARK;
          i++;
          continue;
        }
      }
      units[count] = mapped;
      starts[count] = i;
      gaps[count] = gap;
      gap = GAP_NONE;
      const code = codeOf[mapped]!;
      if (code === 0) {
        state = 0;
      } else {
        for (;;) {
          const next = base[state]! + code;
          if (check[next] === state) {
            state = next;
            break;
          }
          if (state === 0) break;
          state = fail[state]!;
        }
        let found = output[state] !== 0 ? state : outputLink[state]!;
        while (found !== 0) {
          if (hitCount + 2 > hits.length) hits = grown(hits);
          hits[hitCount++] = count;
          hits[hitCount++] = output[found]! - 1;
          found = outputLink[found]!;
        }
      }
      count++;
    }

    const matches: FilterMatch[] = [];
    let holdFrom = final || depth[state] === 0 ? length : starts[count - depth[state]!]!;
    for (let h = 0; h < hitCount; h += 2) {
      const last = hits[h]!;
      const key = hits[h + 1]!;
      const first = last - this.keyLengths[key]! + 1;
      const verdict = latinVerdict(first, last, count, final, this.keySpaces.get(key));
      if (verdict === 'rejected') continue;
      const start = starts[first]!;
      if (verdict === 'undecided') {
        holdFrom = Math.min(holdFrom, start);
        continue;
      }
      const end = starts[last]! + 1;
      for (let c = this.categoryStart[key]!; c < this.categoryStart[key + 1]!; c++) {
        const category = this.categoryIndex[c]!;
        matches.push({ category: this.categories[category]!, action: this.actions[category]!, start, end });
      }
    }
    // A match that straddles the held part is held whole, so its mask is never split across releases.
    for (let moved = true; moved;) {
      moved = false;
      for (const match of matches) {
        if (match.start < holdFrom && match.end > holdFrom) {
          holdFrom = match.start;
          moved = true;
        }
      }
    }
    matches.sort((a, b) => a.start - b.start || a.end - b.end);
    let lastKept = count - 1;
    while (lastKept >= 0 && starts[lastKept]! >= holdFrom) lastKept--;
    return { matches, holdFrom, contextFrom: lastKept >= 0 ? starts[lastKept]! : holdFrom };
  }
}

/** Latin letters 1, digits 2, anything else 0 (after normalisation, so full-width forms are Latin too). */
function latinKind(unit: number): number {
  if (unit >= 0x61 && unit <= 0x7a) return 1;
  if (unit >= 0x30 && unit <= 0x39) return 2;
  return 0;
}

/** The Latin word-boundary rules of ContentFilter over the units of the last scan. */
function latinVerdict(
  first: number,
  last: number,
  count: number,
  final: boolean,
  listedSpaces: readonly number[] | undefined,
): 'accepted' | 'rejected' | 'undecided' {
  const firstKind = latinKind(units[first]!);
  if (
    firstKind !== 0 &&
    first > 0 &&
    gaps[first] === GAP_NONE &&
    latinKind(units[first - 1]!) === firstKind
  ) {
    return 'rejected';
  }
  let undecided = false;
  const lastKind = latinKind(units[last]!);
  if (lastKind !== 0) {
    if (last + 1 < count) {
      if (gaps[last + 1] === GAP_NONE && latinKind(units[last + 1]!) === lastKind) return 'rejected';
    } else if (!final) {
      undecided = true;
    }
  }
  for (let j = first + 1; j <= last; j++) {
    if (gaps[j] !== GAP_SPACE || latinKind(units[j]!) === 0 || latinKind(units[j - 1]!) === 0) continue;
    if (listedSpaces?.includes(j - first)) continue;
    const leftIsWord = j >= 2 && gaps[j - 1] === GAP_NONE && latinKind(units[j - 2]!) !== 0;
    const rightIsWord = j + 1 < count && gaps[j + 1] === GAP_NONE && latinKind(units[j + 1]!) !== 0;
    if (leftIsWord && rightIsWord) return 'rejected';
    if (leftIsWord && j + 1 >= count && !final) undecided = true;
  }
  return undecided ? 'undecided' : 'accepted';
}

export function strongestAction(matches: readonly FilterMatch[]): FilterAction | 'none' {
  let action: FilterAction | 'none' = 'none';
  for (const match of matches) action = strongerAction(action, match.action);
  return action;
}

/** Masks the union of the spans (sorted by start), one `*` per code point. */
export function maskSpans(text: string, spans: readonly { start: number; end: number }[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const span of spans) {
    const from = Math.max(span.start, at);
    if (span.end <= from) continue;
    out += text.slice(at, from);
    for (let i = from; i < span.end; i++) {
      if (!(isLowSurrogate(text.charCodeAt(i)) && i > from && isHighSurrogate(text.charCodeAt(i - 1))))
        out += '*';
    }
    at = span.end;
  }
  return out + text.slice(at);
}

function grown(array: Int32Array): Int32Array {
  const next = new Int32Array(array.length * 2);
  next.set(array);
  return next;
}
