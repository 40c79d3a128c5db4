import { z } from 'zod';
import { TextSchema } from './conversation.events';
import { personal } from '../sealed-text';
import { defineEvent } from './define-event';
import { SlugSchema } from './understanding.events';

/**
 * What the bot made of a customer turn and did about it: the intent it settled on, the slots it filled,
 * asked for or refused, handing over to a human and back, and what a clock decided (timeouts). Every
 * such decision is an event, so replaying a conversation never calls a model and never reads a clock.
 */

/** `<tenant>-<yyyymmdd>-<8 chars>`, the 8 chars from an alphabet without 0/O, 1/I/L and U. */
export const ConversationReferenceSchema = z
  .string()
  .max(120)
  .regex(/^[a-z0-9][a-z0-9_-]*-\d{8}-[2-9A-HJKMNP-TV-Z]{8}$/, 'a conversation reference');

export const ReferenceAssigned = defineEvent(
  'conversation',
  'conversation.reference-assigned',
  1,
  z.object({ reference: ConversationReferenceSchema }).strict(),
  'The conversation got a reference people can read over the phone (besides its uuid); searchable.',
);

export const IntentResolved = defineEvent(
  'conversation',
  'conversation.intent-resolved',
  1,
  z
    .object({
      messageId: z.uuid(),
      /** The intent the bot acts on for this message (the active intent when the message answered a question). */
      intent: SlugSchema,
      /** What the classifier said; null when its task failed. */
      label: SlugSchema.nullable(),
      confidence: z.number().min(0).max(1),
      path: z.enum(['fast', 'llm', 'fallback']),
      /** True when this turn could not be helped with (no usable intent): counts towards a handoff. */
      failed: z.boolean(),
    })
    .strict(),
  'Sessions settled on the intent of a customer message, from the classifier’s result.',
);

/** Slot values are the customer's: sealed at rest when text (amounts stay numbers). */
const SlotValueSchema = z.union([personal(TextSchema.min(1).max(1_000), 3_000), z.number()]);
const SlotSourceSchema = z.enum(['pattern', 'model']);

export const SlotFilled = defineEvent(
  'conversation',
  'conversation.slot-filled',
  1,
  z
    .object({
      messageId: z.uuid(),
      intent: SlugSchema,
      slot: SlugSchema,
      value: SlotValueSchema,
      /** `pattern`: a validator found it in the text; `model`: the extract-slots task did. */
      source: SlotSourceSchema,
    })
    .strict(),
  'A slot the intent needs got its value from a customer message.',
);

export const SlotCorrected = defineEvent(
  'conversation',
  'conversation.slot-corrected',
  1,
  z
    .object({
      messageId: z.uuid(),
      intent: SlugSchema,
      slot: SlugSchema,
      value: SlotValueSchema,
      previousValue: SlotValueSchema,
      source: SlotSourceSchema,
    })
    .strict(),
  'A later message gave a slot another value; the new one replaces the old.',
);

export const SlotRejected = defineEvent(
  'conversation',
  'conversation.slot-rejected',
  1,
  z
    .object({
      messageId: z.uuid(),
      intent: SlugSchema,
      slot: SlugSchema,
      /** What was offered, as given. */
      value: z.union([personal(TextSchema.max(1_000), 3_000), z.number()]),
      reason: z.enum(['invalid-format', 'invalid-value']),
      source: SlotSourceSchema,
    })
    .strict(),
  'A value offered for a slot failed its validator; the slot keeps what it had.',
);

export const BotMessageSent = defineEvent(
  'conversation',
  'conversation.bot-message-sent',
  1,
  z
    .object({
      messageId: z.uuid(),
      inReplyTo: z.array(z.uuid()),
      /** The tenant template it came from (no model was called). */
      template: SlugSchema,
      /** The slot asked for, when the message asks for one. */
      slot: SlugSchema.nullable(),
      text: TextSchema.min(1).max(2_000),
    })
    .strict(),
  'The bot sent a fixed text from the tenant’s templates: asking for a missing slot, a handoff notice...',
);

export const HandedOff = defineEvent(
  'conversation',
  'conversation.handed-off',
  1,
  z
    .object({
      reason: z.enum(['customer-request', 'complaint', 'failed-turns']),
      /** The intent that caused it, when one did. */
      intent: SlugSchema.nullable(),
      inReplyTo: z.array(z.uuid()),
    })
    .strict(),
  'The conversation went to a human agent; the bot stays silent until it is returned.',
);

export const AgentMessageSent = defineEvent(
  'conversation',
  'conversation.agent-message-sent',
  1,
  z
    .object({
      messageId: z.uuid(),
      agentId: z.string().min(1).max(128),
      text: personal(TextSchema.min(1).max(32 * 1024), 3 * 32 * 1024),
    })
    .strict(),
  'A human agent wrote to the customer while the conversation was handed off.',
);

export const ReturnedToBot = defineEvent(
  'conversation',
  'conversation.returned-to-bot',
  1,
  z.object({ agentId: z.string().min(1).max(128) }).strict(),
  'The human agent gave the conversation back to the bot.',
);

export const InactivityTimedOut = defineEvent(
  'conversation',
  'conversation.inactivity-timed-out',
  1,
  z
    .object({
      /** The durable timer that fired; the event id derives from it, so a timer fires once. */
      timerId: z.uuid(),
      /** The customer activity (start or message) the silence is counted from. */
      lastActivitySequence: z.number().int().min(1),
      timeoutSeconds: z.number().int().min(1),
    })
    .strict(),
  'The customer was silent for the tenant’s inactivity timeout: the conversation is archived.',
);

export const KnowledgeWaitExpired = defineEvent(
  'conversation',
  'conversation.knowledge-wait-expired',
  1,
  z.object({ timerId: z.uuid(), messageId: z.uuid(), waitedMs: z.number().int().min(0) }).strict(),
  'No knowledge arrived for a message in time: the turn goes on without it.',
);
