import { z } from 'zod';

/**
 * Personal data in events (issue 10, erasure by crypto-shredding). A personal string field is stored,
 * published and backed up *sealed*: AES-256-GCM under its conversation's data key, written as one
 * self-describing string, so payload shapes and JSON Schemas keep their types. Erasure deletes the key;
 * readers then see ERASED_MARKER where the text was, and every audit proof (which hashes the sealed
 * form) still verifies.
 *
 * `sealed:v1:<iv>:<ciphertext>:<tag>`, each part base64url without padding: a 12-byte IV (16 chars),
 * the UTF-8 text encrypted (any length), a 16-byte GCM tag (22 chars). The associated data binds the
 * ciphertext to its tenant, conversation and event, so it cannot be moved to another event.
 */
export const SEALED_PREFIX = 'sealed:v1:';

/** What readers see in place of a personal field once its conversation was erased. */
export const ERASED_MARKER = '[erased]';

const SEALED_PATTERN = /^sealed:v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]*:[A-Za-z0-9_-]{22}$/;

/** True for a string in the sealed form (not proof that it opens: that needs the key). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX) && SEALED_PATTERN.test(value);
}

/** Length of the sealed form of a text of `utf8Bytes` bytes of UTF-8. */
export function sealedLength(utf8Bytes: number): number {
  return SEALED_PREFIX.length + 16 + 1 + Math.ceil((utf8Bytes * 4) / 3) + 1 + 22;
}

/**
 * A personal string field: its plain schema (what the domain and old streams hold) or the sealed form
 * (what the store writes). `maxBytes` bounds the plain text's UTF-8, which bounds the sealed length;
 * give it whenever the plain schema has a maximum (a UTF-16 unit is at most 3 bytes of UTF-8).
 */
export function personal<T extends z.ZodType<string>>(plain: T, maxBytes?: number) {
  const sealed = z.string().regex(SEALED_PATTERN).meta({
    description:
      'Personal data sealed with the conversation’s data key (AES-256-GCM, base64url): sealed:v1:<iv>:<ciphertext>:<tag>',
  });
  return z.union([plain, maxBytes === undefined ? sealed : sealed.max(sealedLength(maxBytes))]);
}
