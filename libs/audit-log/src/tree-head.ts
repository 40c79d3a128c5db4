import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { TenantIdSchema } from '@contracts';
import { AuditLogError } from './audit-log.error';
import { canonicalJson } from './canonical-json';
import { isHexHash, sha256, toHex } from './merkle-hash';

/**
 * Signed tree heads (RFC 9162 §4.10 in spirit): the log's key signs (tenant, size, root, time), so
 * whoever holds the public key can check any root, proof or export without trusting the database.
 * Ed25519 through node:crypto; keys travel as PEM or as the raw 32 bytes (base64 or hex).
 */
export const TreeHeadSchema = z
  .object({
    tenantId: TenantIdSchema,
    treeSize: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    rootHash: z.string().refine(isHexHash, 'a lowercase hex SHA-256'),
    timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'Date.toISOString form'),
    /** Hex SHA-256 of the raw public key, so a verifier can tell which key a head claims. */
    keyId: z.string().refine(isHexHash, 'a lowercase hex SHA-256'),
  })
  .strict();
export type TreeHead = z.infer<typeof TreeHeadSchema>;

export const SignedTreeHeadSchema = TreeHeadSchema.extend({
  /** Hex, not base64: base64 has spare bits in its last digit, so an edited file could decode the same. */
  signature: z.string().regex(/^[0-9a-f]{128}$/, '64 bytes of lowercase hex'),
}).strict();
export type SignedTreeHead = z.infer<typeof SignedTreeHeadSchema>;

export interface AuditSigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Domain separation: a tree-head signature can never pass for any other signature of this key. */
const TREE_HEAD_CONTEXT = 'convo-engine/audit-log/tree-head/v1';

/** A new Ed25519 key pair, in the forms it is stored and published in. */
export function generateAuditSigningKey(): {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  publicKeyBase64: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: publicKeyId(publicKey),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyBase64: rawPublicKey(publicKey).toString('base64'),
  };
}

export function loadAuditSigningKey(privateKeyPem: string): AuditSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new AuditLogError('key-invalid', `not a private key: ${(error as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditLogError('key-invalid', `an Ed25519 key is required, not ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: publicKeyId(publicKey), privateKey, publicKey };
}

/** PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The log key as configuration carries it (AUDIT_SIGNING_KEY): PKCS#8 PEM, that PEM in base64 (one
 * line, for environment files), or the raw 32-byte seed as 64 hex digits or base64.
 */
export function parseAuditSigningKey(text: string): AuditSigningKey {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return loadAuditSigningKey(trimmed);
  const raw = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (raw.length === 32) {
    return loadAuditSigningKey(
      createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })
        .export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    );
  }
  const decoded = raw.toString('utf8');
  if (decoded.startsWith('-----BEGIN')) return loadAuditSigningKey(decoded);
  throw new AuditLogError('key-invalid', 'expected a PKCS#8 PEM, that PEM in base64, or a 32-byte seed');
}

/** A public key from SPKI PEM, or the raw 32-byte key as 64 hex digits or base64. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) {
      key = createPublicKey(trimmed);
    } else {
      const raw = /^[0-9a-fA-F]{64}$/.test(trimmed)
        ? Buffer.from(trimmed, 'hex')
        : Buffer.from(trimmed, 'base64');
      if (raw.length !== 32) throw new Error(`a raw Ed25519 key is 32 bytes, this is ${raw.length}`);
      key = createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
        format: 'jwk',
      });
    }
  } catch (error) {
    throw new AuditLogError('key-invalid', `not a public key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuditLogError('key-invalid', `an Ed25519 key is required, not ${key.asymmetricKeyType}`);
  }
  return key;
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new AuditLogError('key-invalid', 'not an Ed25519 public key');
  return Buffer.from(x, 'base64url');
}

export function publicKeyId(publicKey: KeyObject): string {
  return toHex(sha256(rawPublicKey(publicKey)));
}

/** The timestamp is the caller's clock reading: nothing in this library reads the time. */
export function signTreeHead(
  head: { tenantId: string; treeSize: number; rootHash: Buffer | string },
  timestamp: Date,
  key: AuditSigningKey,
): SignedTreeHead {
  const parsed = TreeHeadSchema.safeParse({
    tenantId: head.tenantId,
    treeSize: head.treeSize,
    rootHash: typeof head.rootHash === 'string' ? head.rootHash : toHex(head.rootHash),
    timestamp: timestamp.toISOString(),
    keyId: key.keyId,
  });
  if (!parsed.success) throw new AuditLogError('tree-head-invalid', z.prettifyError(parsed.error));
  return { ...parsed.data, signature: signWithContext(TREE_HEAD_CONTEXT, canonicalJson(parsed.data), key) };
}

export type TreeHeadCheck = { ok: true } | { ok: false; reason: string };

/** Checks shape, that the head names this key, and the signature; never throws. */
export function verifyTreeHead(head: unknown, publicKey: KeyObject): TreeHeadCheck {
  const parsed = SignedTreeHeadSchema.safeParse(head);
  if (!parsed.success) return { ok: false, reason: `malformed tree head: ${z.prettifyError(parsed.error)}` };
  const { signature, ...unsigned } = parsed.data;
  const expectedKeyId = publicKeyId(publicKey);
  if (unsigned.keyId !== expectedKeyId) {
    return { ok: false, reason: `signed by key ${unsigned.keyId}, expected ${expectedKeyId}` };
  }
  const valid = verifyWithContext(TREE_HEAD_CONTEXT, canonicalJson(unsigned), signature, publicKey);
  return valid ? { ok: true } : { ok: false, reason: 'the signature does not match the tree head' };
}

/** Signatures by the log key over other documents (export manifests), each under its own context. */
export function signWithContext(context: string, message: string, key: AuditSigningKey): string {
  return toHex(sign(null, Buffer.from(`${context}\n${message}`, 'utf8'), key.privateKey));
}

export function verifyWithContext(
  context: string,
  message: string,
  signatureHex: string,
  publicKey: KeyObject,
): boolean {
  if (!/^[0-9a-f]{128}$/.test(signatureHex)) return false;
  return verify(
    null,
    Buffer.from(`${context}\n${message}`, 'utf8'),
    publicKey,
    Buffer.from(signatureHex, 'hex'),
  );
}
