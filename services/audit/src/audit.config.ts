import { z } from 'zod';
import { CommonConfig } from '@libs/config';

export const AuditConfigSchema = z.object({
  ...CommonConfig,
  AUDIT_PORT: z.coerce.number().int().default(3004),
  /**
   * The log's Ed25519 signing key: PKCS#8 PEM, that PEM in base64, or the 32-byte seed (hex or base64).
   * A secret; its public key verifies every tree head and export. Parsed at boot (a bad key stops it).
   */
  AUDIT_SIGNING_KEY: z.string().min(1),
  /** How often every tenant whose log grew gets a new signed tree head. */
  AUDIT_TREE_HEAD_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
});

export type AuditConfig = z.output<typeof AuditConfigSchema>;
