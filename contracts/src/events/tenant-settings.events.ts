import { z } from 'zod';
import { TextSchema } from './conversation.events';
import { defineEvent } from './define-event';
import { SlotTypeSchema, SlugSchema } from './understanding.events';

/** The stream id of a tenant's settings: one stream per tenant. */
export const TENANT_SETTINGS_STREAM = 'settings';

const PromptFields = {
  /** The assistant's standing instructions, first in every prompt (a stable prefix the model server caches). */
  systemPrompt: TextSchema.min(1).max(8_000).optional(),
  /** How many transcript entries (customer and assistant) a prompt carries. */
  historyLimit: z.number().int().min(0).max(100).optional(),
  /** Longest reply, in model tokens. */
  replyMaxTokens: z.number().int().min(16).max(4_096).optional(),
};

/** Text in each language the bot speaks; the conversation's locale picks one, `en` is the fallback. */
export const LocalizedTextSchema = z
  .object({ zh: TextSchema.min(1).max(2_000).optional(), en: TextSchema.min(1).max(2_000).optional() })
  .strict();

export const SlotDefinitionSchema = z
  .object({
    name: SlugSchema,
    type: SlotTypeSchema,
    required: z.boolean(),
    description: TextSchema.max(500).optional(),
    /** How the bot asks for it when it is missing (no model call needed to ask). */
    ask: LocalizedTextSchema,
  })
  .strict();

export const IntentDefinitionSchema = z
  .object({
    name: SlugSchema,
    description: TextSchema.min(1).max(500),
    /** Labelled examples for the embeddings fast path (nearest examples / centroid). */
    examples: z.array(TextSchema.min(1).max(500)).max(200),
    slots: z.array(SlotDefinitionSchema).max(20),
    /** Hand the conversation to a human agent when this intent is recognised (e.g. `human_agent`, `complaint`). */
    handoff: z.boolean(),
  })
  .strict();
export type IntentDefinition = z.infer<typeof IntentDefinitionSchema>;

/**
 * What a tenant configures about its conversations. Every field is optional: an absent one takes the
 * engine's default (the sessions service's configuration and its default e-commerce intents).
 */
export const TenantSettingsSchema = z
  .object({
    ...PromptFields,
    /** The intent label set, with examples and slots; absent: the engine's default e-commerce set. */
    intents: z.array(IntentDefinitionSchema).min(1).max(50).optional(),
    /** Below this confidence the fast path defers to the model. */
    fastPathMinConfidence: z.number().min(0).max(1).optional(),
    /** Customer silence after which the conversation is archived. */
    inactivityTimeoutSeconds: z
      .number()
      .int()
      .min(30)
      .max(7 * 24 * 3600)
      .optional(),
    /** Consecutive turns the bot could not help with before it hands off to a human. */
    handoffAfterFailedTurns: z.number().int().min(1).max(20).optional(),
    /** Fixed texts the bot sends without a model (greeting, handoff notice...), by name. */
    templates: z.record(SlugSchema, LocalizedTextSchema).optional(),
  })
  .strict();
export type TenantSettings = z.infer<typeof TenantSettingsSchema>;

export const TenantSettingsUpdated = defineEvent(
  'tenant-settings',
  'tenant.settings-updated',
  1,
  z.object({ settings: TenantSettingsSchema }).strict(),
  'A tenant administrator replaced the tenant’s settings (prompt, limits, intents with examples and ' +
    'slots, timeouts, templates). Each version is immutable; conversations record the version they run ' +
    'under (conversation.started.v2 `configVersion`).',
);
