import { z } from 'zod';
import {
  ChannelSchema,
  LocaleSchema,
  MAX_MESSAGE_BYTES,
  MAX_STREAM_SEQUENCE,
  MessageTextSchema,
  TextSchema,
} from '@contracts';

/**
 * The request schemas of the REST API. The routes validate with them and the OpenAPI document is
 * generated from them (bodies, query and headers alike), so the two cannot disagree.
 */

/** Sent as `clientMessageId` or as a header, so restricted to what any client can put in a header. */
export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7E]+$/, 'must be 1-128 visible ASCII characters')
  .describe(
    'Makes retries safe: a retry with the same key and text records nothing new and answers the ' +
      'original messageId; the same key with a different text is refused with 422 idempotency-key-reused. ' +
      '1-128 visible ASCII characters, scoped to the conversation.',
  );

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
    // JSON Schema counts characters, the limit is in bytes: maxLength is only an upper bound.
    text: MessageTextSchema.describe(
      `The customer's message: not blank, at most ${MAX_MESSAGE_BYTES} bytes of UTF-8 (413 ` +
        'message-too-large beyond). maxLength counts characters and is only an upper bound: ' +
        'a CJK character takes 3 bytes, so about 10,900 of them fit.',
    ),
    /** Retrying with the same id returns the same messageId and records the message once. */
    clientMessageId: IdempotencyKeySchema.optional(),
  })
  .strict();

/** Header names in lower case, as Node delivers them (HTTP header names are case-insensitive). */
export const SendMessageHeaders = z.object({
  'idempotency-key': IdempotencyKeySchema.optional().describe(
    'The same as `clientMessageId` in the body, which wins when both are sent. ' +
      (IdempotencyKeySchema.description ?? ''),
  ),
});

export const CloseConversationBody = z
  .object({
    reason: z.enum(['closed-by-frontend', 'customer-left', 'resolved']).default('closed-by-frontend'),
  })
  .strict();

export const ListEventsQuery = z
  .object({
    after: z.coerce
      .number()
      .int()
      .min(0)
      .max(MAX_STREAM_SEQUENCE)
      .default(0)
      .describe('Return events with a sequence greater than this (the previous page’s `nextAfter`).'),
    limit: z.coerce.number().int().min(1).max(500).default(100).describe('At most this many events.'),
  })
  .strict();

export const ConversationIdSchema = z
  .uuid()
  .describe('Conversation id; another tenant’s conversation answers 404 like an unknown one.');

export const SendMessageAccepted = z.object({
  conversationId: z.uuid(),
  messageId: z.uuid(),
  /** The message's position in the conversation's event stream. */
  sequence: z.number().int(),
});

export const AgentMessageBody = z
  .object({
    /** Who wrote it, as the contact centre names its agents. */
    agentId: z.string().min(1).max(128),
    text: MessageTextSchema,
    /** Retrying with the same id records the message once. */
    clientMessageId: IdempotencyKeySchema.optional(),
  })
  .strict();

export const ReturnToBotBody = z.object({ agentId: z.string().min(1).max(128) }).strict();

export const StateAtQuery = z
  .object({
    at: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_STREAM_SEQUENCE)
      .optional()
      .describe('The sequence of the event to stop at; absent: the live state.'),
  })
  .strict();

export const SearchConversationsQuery = z
  .object({
    reference: z
      .string()
      .max(120)
      .regex(/^[a-z0-9][a-z0-9_-]*-\d{8}-[A-Za-z0-9]{8}$/, 'a conversation reference')
      .describe(
        'A readable reference, `<tenant>-<yyyymmdd>-<8 chars>`; the 8 characters are matched case-insensitively.',
      ),
  })
  .strict();
