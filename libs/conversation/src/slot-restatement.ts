/**
 * Whether a free-text slot value is only the request over again. Asked for a refund's reason the customer
 * never gave, a small model answers with the request itself ("退款", "I want a refund") or with the order
 * number around it ("订单号E2026…，订单需要退款。"). A reason the customer did give is neither a piece of
 * one of the intent's examples nor something that carries another slot's value.
 */
export interface RequestWords {
  /** The intent's examples: what asking for it sounds like. */
  examples: readonly string[];
  /** The values of the conversation's other slots (the order number, a phone...). */
  otherValues: readonly string[];
}

/** Shorter values of other slots are not looked for inside a value (they would match by chance). */
const MIN_OTHER_VALUE_LENGTH = 4;

/**
 * True when the value, case, spaces and punctuation aside, lies within one of the examples, or holds one
 * of the other slots' values.
 */
export function restatesRequest(value: string, { examples, otherValues }: RequestWords): boolean {
  const squashed = squash(value);
  if (squashed === '') return false;
  return (
    examples.some((example) => squash(example).includes(squashed)) ||
    otherValues
      .map(squash)
      .some((other) => other.length >= MIN_OTHER_VALUE_LENGTH && squashed.includes(other))
  );
}

function squash(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}
