import { createHash } from 'node:crypto';

/** Namespace for every id this engine derives (RFC 9562 UUIDv5). */
const ENGINE_NAMESPACE = Buffer.from('6f1c1e7a3b2d4c9e8a51d0c3b7e2f4a9', 'hex');

/**
 * A UUIDv5 derived from its parts. Reactions derive their event ids from what caused them, so a
 * redelivered message produces the same ids and the store's unique key makes the second append a no-op.
 */
export function derivedId(...parts: string[]): string {
  const hash = createHash('sha1').update(ENGINE_NAMESPACE).update(parts.join('\u001f')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
