/**
 * Redacts personal data in free text for analytics views and exports (issue 10): mainland ID numbers
 * (18 digits, checksum per GB 11643), bank card numbers (13-19 digits, Luhn), mainland mobile numbers
 * and e-mail addresses. Pure. Candidates that fail their checksum are left alone, so order numbers and
 * amounts survive; the checksums are what keep false positives down.
 */
export type PiiKind = 'id-number' | 'bank-card' | 'phone' | 'email';

export const REDACTION_MARKERS: Record<PiiKind, string> = {
  'id-number': '[id-number]',
  'bank-card': '[bank-card]',
  phone: '[phone]',
  email: '[email]',
};

// Digit runs not glued to other digits or letters (a run inside a longer number is not a match).
const ID_NUMBER = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;
const CARD = /(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])/g;
const PHONE = /(?<![0-9A-Za-z])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z])/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

export function isValidIdNumber(candidate: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(candidate)) return false;
  const sum = ID_WEIGHTS.reduce((total, weight, i) => total + weight * Number(candidate[i]), 0);
  return ID_CHECK[sum % 11] === candidate[17]!.toUpperCase();
}

export function passesLuhn(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export interface Redaction {
  text: string;
  /** How many of each kind were replaced (for the view's "redacted" note and metrics). */
  found: Partial<Record<PiiKind, number>>;
}

export function redactPii(text: string): Redaction {
  const found: Partial<Record<PiiKind, number>> = {};
  const replace = (kind: PiiKind) => {
    found[kind] = (found[kind] ?? 0) + 1;
    return REDACTION_MARKERS[kind];
  };
  const redacted = text
    .replace(ID_NUMBER, (match) => (isValidIdNumber(match) ? replace('id-number') : match))
    .replace(CARD, (match) => (passesLuhn(match.replace(/[ -]/g, '')) ? replace('bank-card') : match))
    .replace(PHONE, () => replace('phone'))
    .replace(EMAIL, () => replace('email'));
  return { text: redacted, found };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Redacts every string inside a JSON value (event data, a conversation's state), keeping its shape.
 * Identifiers stay: a UUID is not personal data, and its digit groups joined by dashes can pass Luhn.
 */
export function redactPiiDeep(value: unknown): unknown {
  if (typeof value === 'string') return UUID.test(value) ? value : redactPii(value).text;
  if (Array.isArray(value)) return value.map(redactPiiDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactPiiDeep(inner)]));
  }
  return value;
}
