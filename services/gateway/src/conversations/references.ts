import { randomBytes } from 'node:crypto';

/** No 0/O, 1/I/L or U: nothing two people could mishear or misread over the phone. */
export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Readable references come from the edge, injected, like ids: handlers and deciders stay deterministic. */
export const REFERENCE_GENERATOR = Symbol('REFERENCE_GENERATOR');
export type ReferenceGenerator = (tenantId: string) => string;

/** `<tenant>-<yyyymmdd>-<8 chars>`; the day in China Standard Time (UTC+8), where the contact centres are. */
export function formatReference(tenantId: string, now: Date, random: Uint8Array): string {
  const local = new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10).replace(/-/g, '');
  const chars = Array.from(
    random.subarray(0, 8),
    (byte) => REFERENCE_ALPHABET[byte % REFERENCE_ALPHABET.length],
  );
  return `${tenantId}-${local}-${chars.join('')}`;
}

/** 30^8 ≈ 6.6e11 references per tenant and day; a unique index still refuses a collision. */
export const randomReferences: ReferenceGenerator = (tenantId) => {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 30).
  const bytes: number[] = [];
  while (bytes.length < 8) {
    for (const byte of randomBytes(16)) if (byte < 240 && bytes.length < 8) bytes.push(byte);
  }
  return formatReference(tenantId, new Date(), Uint8Array.from(bytes));
};
