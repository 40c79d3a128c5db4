import { z } from 'zod';
import { RateLimitsSchema } from './events/tenant-limits.events';
import { IntentDefinitionSchema, TenantSettingsSchema } from './events/tenant-settings.events';

/**
 * What the gateway answers about a tenant's settings (admin routes). Each change is a new version of
 * the tenant's settings stream; conversations started afterwards run under it (`configVersion`),
 * conversations already open keep theirs.
 */
export const TenantSettingsViewSchema = z.object({
  /** The settings stream's version: 0 until the tenant configures anything. Also the ETag. */
  version: z.number().int().min(0),
  /** What the tenant set; absent fields take the engine's defaults. */
  settings: TenantSettingsSchema,
  /** The intents conversations started now run under: the tenant's, or the engine's default set. */
  intents: z.array(IntentDefinitionSchema),
  intentsSource: z.enum(['tenant', 'default']),
  /** The rate limits the tenant set (PUT /v1/settings/limits); absent ones take the gateway's defaults. */
  limits: RateLimitsSchema,
});
export type TenantSettingsView = z.infer<typeof TenantSettingsViewSchema>;

/** Replaces the whole intent list (labels, descriptions, examples, slots); the other settings stay. */
export const ReplaceIntentsBodySchema = z
  .object({
    intents: TenantSettingsSchema.shape.intents
      .unwrap()
      .refine(
        (intents) => new Set(intents.map((intent) => intent.name)).size === intents.length,
        'intent names must be unique',
      ),
    /** The version this change was made against; a stale one is refused (409), as `If-Match` is (412). */
    expectedVersion: z.number().int().min(0).optional(),
  })
  .strict();
export type ReplaceIntentsBody = z.infer<typeof ReplaceIntentsBodySchema>;

/** Replaces the tenant's rate limits as a whole; the other settings stay. */
export const ReplaceLimitsBodySchema = RateLimitsSchema.extend({
  /** The version this change was made against; a stale one is refused (409), as `If-Match` is (412). */
  expectedVersion: z.number().int().min(0).optional(),
}).strict();
export type ReplaceLimitsBody = z.infer<typeof ReplaceLimitsBodySchema>;
