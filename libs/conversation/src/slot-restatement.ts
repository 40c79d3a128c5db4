/**
 * Whether a free-text slot value says anything beyond the request itself. A small model asked for a
 * refund's reason when the customer gave none answers with the request: "退款", "订单号E2026…，订单需要
 * 退款", the order number again. Those words are mostly the intent's own examples and the slots already
 * filled; a reason the customer did give ("买错尺码了", "the zip is broken") is mostly other words.
 */

/** More than this share of a value's letter/digit pairs must be new for the value to be kept. */
export const MIN_NEW_SHARE = 0.5;

/**
 * The share of the value's adjacent letter/digit pairs (single characters for a one-character value)
 * found in none of `known`; case, spaces and punctuation aside, so it reads Chinese and English alike.
 */
export function newShare(value: string, known: readonly string[]): number {
  const wanted = pairsOf(value);
  if (wanted.length === 0) return 0;
  const seen = new Set(known.flatMap(pairsOf));
  return wanted.filter((pair) => !seen.has(pair)).length / wanted.length;
}

/** True when the value is mostly the request's words (see newShare). */
export function restatesRequest(value: string, known: readonly string[]): boolean {
  return newShare(value, known) <= MIN_NEW_SHARE;
}

function pairsOf(text: string): string[] {
  const chars = [...text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')];
  return chars.length < 2 ? chars : chars.slice(1).map((char, index) => `${chars[index]}${char}`);
}
