import { Locale } from 'opencc-js';

/**
 * One UTF-16 unit in, one unit out: full-width to half-width (NFKC), case folded, traditional
 * Chinese to simplified, or dropped. Keeping the mapping one-to-one is what lets a match on the
 * normalised text point back at the original characters without an offset table per call; the rare
 * characters whose NFKC or lower case is longer than one unit (ligatures, `İ`) are kept unchanged.
 *
 * Dropped units are separators a customer can slip between the characters of a word: whitespace,
 * punctuation, symbols (emoji included), combining marks, format characters (zero-width space and
 * joiners, BOM) and the invisible Hangul fillers. Two markers tell them apart, because whitespace
 * between two Latin words is a real word boundary (see content-filter.ts); both are control
 * characters, which are dropped themselves, so no kept unit ever has these values.
 */
export const DROPPED = 0;
export const DROPPED_SPACE = 1;

const SPACE = /^[\s\p{Z}]$/u;
const SEPARATOR = /^[\p{P}\p{S}\p{M}\p{C}\u115f\u1160\u3164\uffa0]$/u;

let table: Uint16Array | undefined;

/** The unit table, built on first use (about 0.1 s): 64 K entries, 128 KiB. */
export function normalisationTable(): Uint16Array {
  table ??= buildTable();
  return table;
}

function buildTable(): Uint16Array {
  const simplified = traditionalToSimplified();
  const result = new Uint16Array(0x10000);
  for (let unit = 0; unit < 0x10000; unit++) {
    if (unit >= 0xd800 && unit <= 0xdfff) {
      // Surrogates stay as they are; the scanner decides per code point (astral symbols are dropped).
      result[unit] = unit;
      continue;
    }
    let char = String.fromCharCode(unit);
    const compatible = char.normalize('NFKC');
    if (compatible.length === 1) char = compatible;
    const lower = char.toLowerCase();
    if (lower.length === 1) char = lower;
    const mapped = simplified.get(char.charCodeAt(0)) ?? char.charCodeAt(0);
    const out = String.fromCharCode(mapped);
    result[unit] = SPACE.test(out) ? DROPPED_SPACE : SEPARATOR.test(out) ? DROPPED : mapped;
  }
  return result;
}

/**
 * opencc-js's character dictionaries, composed: Hong Kong and Taiwan variants to OpenCC's
 * traditional forms (as hk2cn / tw2cn do first), then traditional to mainland simplified (t2cn).
 * Phrase dictionaries are left out: they pick a character by its neighbours, which would break the
 * one-to-one mapping, and matching does not need it because words and text go through the same table.
 */
function traditionalToSimplified(): Map<number, number> {
  const variants = singleUnitPairs([...(Locale.from.hk ?? []), ...(Locale.from.tw ?? [])]);
  const toSimplified = singleUnitPairs(Locale.to.cn ?? []);
  // A variant that is itself a simplified character (Taiwan lists 么 as a variant of 幺) stays as it is.
  const simplifiedForms = new Set(toSimplified.values());
  const result = new Map<number, number>();
  for (const [from, standard] of variants) {
    if (!simplifiedForms.has(from)) result.set(from, toSimplified.get(standard) ?? standard);
  }
  for (const [from, simplified] of toSimplified) if (!result.has(from)) result.set(from, simplified);
  return result;
}

type DictGroups = readonly (readonly (string | readonly (readonly [string, string])[])[])[];

function singleUnitPairs(groups: DictGroups): Map<number, number> {
  const pairs = new Map<number, number>();
  const add = (from: string, to: string): void => {
    if (from.length === 1 && to.length === 1 && from !== to && !pairs.has(from.charCodeAt(0))) {
      pairs.set(from.charCodeAt(0), to.charCodeAt(0));
    }
  };
  for (const group of groups) {
    for (const dict of group) {
      if (typeof dict === 'string') {
        for (const entry of dict.split('|')) {
          const [from = '', to = ''] = entry.split(' ');
          add(from, to);
        }
      } else {
        for (const [from, to] of dict) add(from, to);
      }
    }
  }
  return pairs;
}

const astralDropped = new Map<number, boolean>();

/** Astral code points (emoji, CJK extension B...): symbols are dropped like their BMP kin. */
export function isDroppedAstral(codePoint: number): boolean {
  let dropped = astralDropped.get(codePoint);
  if (dropped === undefined) {
    dropped = /^[\p{P}\p{S}\p{M}\p{C}\p{Z}]$/u.test(String.fromCodePoint(codePoint));
    if (astralDropped.size < 4096) astralDropped.set(codePoint, dropped);
  }
  return dropped;
}

/** A word (or any text) with its dropped units removed: what the automaton is built over. */
export function normaliseWord(word: string): string {
  return normaliseWordWithSpaces(word).key;
}

/**
 * The normalised word, and the positions in it that whitespace preceded in the word as listed:
 * a listed phrase ("add me on wechat") may match across whitespace there and only there.
 */
export function normaliseWordWithSpaces(word: string): { key: string; spaces: number[] } {
  const norm = normalisationTable();
  let key = '';
  const spaces: number[] = [];
  let spaced = false;
  for (let i = 0; i < word.length; i++) {
    const unit = word.charCodeAt(i);
    if (isHighSurrogate(unit) && i + 1 < word.length && isLowSurrogate(word.charCodeAt(i + 1))) {
      if (!isDroppedAstral(word.codePointAt(i)!)) key += word.slice(i, i + 2);
      i++;
      continue;
    }
    const mapped = norm[unit]!;
    if (mapped === DROPPED_SPACE) spaced = key.length > 0;
    if (mapped <= DROPPED_SPACE) continue;
    if (spaced) spaces.push(key.length);
    spaced = false;
    key += String.fromCharCode(mapped);
  }
  return { key, spaces };
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
