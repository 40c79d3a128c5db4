import { z } from 'zod';
import { ChannelSchema, LocaleSchema, MessageTextSchema, TextSchema } from '@contracts';

export const StartConversationBody = z
  .object({
    channel: ChannelSchema.default('web'),
    locale: LocaleSchema.nullable().default(null),
    labels: z
      .record(TextSchema.max(64), TextSchema.max(256))
      .refine((labels) => Object.keys(labels).length <= 20, 'at most 20 labels')
      .default({}),
  })
  .strict();

export const SendMessageBody = z
  .object({
    text: MessageTextSchema,
    /** Retrying with the same id returns the same messageId and records the message once. */
    clientMessageId: z.string().min(1).max(128).optional(),
  })
  .strict();

export const CloseConversationBody = z
  .object({
    reason: z.enum(['closed-by-frontend', 'customer-left', 'resolved']).default('closed-by-frontend'),
  })
  .strict();

export const ListEventsQuery = z
  .object({
    /** Return events with a sequence greater than this (the previous page's `nextAfter`). */
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const ConversationIdSchema = z.uuid();

export const SendMessageAccepted = z.object({
  conversationId: z.uuid(),
  messageId: z.uuid(),
  /** The message's position in the conversation's event stream. */
  sequence: z.number().int(),
});
