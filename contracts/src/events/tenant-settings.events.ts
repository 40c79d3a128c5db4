import { z } from 'zod';
import { TextSchema } from './conversation.events';
import { defineEvent } from './define-event';

/** The stream id of a tenant's settings: one stream per tenant. */
export const TENANT_SETTINGS_STREAM = 'settings';

/**
 * What a tenant configures about its conversations. Every field is optional: an absent one takes the
 * engine's default (the sessions service's configuration). A new field means a new event version.
 */
export const TenantSettingsSchema = z
  .object({
    /** The assistant's standing instructions, first in every prompt (a stable prefix the model server caches). */
    systemPrompt: TextSchema.min(1).max(8_000).optional(),
    /** How many transcript entries (customer and assistant) a prompt carries. */
    historyLimit: z.number().int().min(0).max(100).optional(),
    /** Longest reply, in model tokens. */
    replyMaxTokens: z.number().int().min(16).max(4_096).optional(),
  })
  .strict();
export type TenantSettings = z.infer<typeof TenantSettingsSchema>;

export const TenantSettingsUpdated = defineEvent(
  'tenant-settings',
  'tenant.settings-updated',
  1,
  z.object({ settings: TenantSettingsSchema }).strict(),
  'A tenant administrator replaced the tenant’s settings. Each version is immutable; conversations ' +
    'record the version they run under (conversation.started.v2 `configVersion`).',
);
