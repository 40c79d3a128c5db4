import { z } from 'zod';
import { defineEvent } from './define-event';

/** Requests and model tokens per rolling minute; absent: the gateway's configured default. */
const PerMinuteLimitsSchema = z
  .object({
    requestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
    tokensPerMinute: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .strict();

/**
 * A tenant's rate limits: for the tenant as a whole (all its keys together) and for each of its API
 * keys on its own. Enforced by every gateway replica on counters shared in PostgreSQL.
 */
export const RateLimitsSchema = z
  .object({
    tenant: PerMinuteLimitsSchema.optional(),
    perKey: PerMinuteLimitsSchema.optional(),
  })
  .strict();
export type RateLimits = z.infer<typeof RateLimitsSchema>;

/**
 * Its own event rather than a field of `tenant.settings-updated.v1`: that shape is published and
 * `.strict()`, and limits change on their own, often, without touching prompts or intents.
 */
export const TenantLimitsSet = defineEvent(
  'tenant-settings',
  'tenant.limits-set',
  1,
  z.object({ limits: RateLimitsSchema }).strict(),
  'A tenant administrator set the tenant’s rate limits (requests and tokens per minute, for the tenant ' +
    'and for each of its keys); they replace the previous limits as a whole.',
);
