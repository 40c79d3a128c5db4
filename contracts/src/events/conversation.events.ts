import { z } from 'zod';
import { personal } from '../sealed-text';
import { defineEvent } from './define-event';

/** A customer message may be at most 32 KiB of UTF-8. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for text every reader can store: no NUL (PostgreSQL refuses it in JSON) and well-formed UTF-16. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** Every free-text field of every event: storable in any JSON store, encodable as UTF-8. */
export const TextSchema = z.string().refine(isStorableText, {
  message: 'text must not contain NUL characters or unpaired surrogates',
});

export const MessageTextSchema = TextSchema.min(1)
  .max(MAX_MESSAGE_BYTES)
  .refine((text) => text.trim().length > 0, { message: 'text must not be empty' })
  .refine((text) => Buffer.byteLength(text, 'utf8') <= MAX_MESSAGE_BYTES, {
    message: `text must be at most ${MAX_MESSAGE_BYTES} bytes of UTF-8`,
  });

export const ChannelSchema = z.enum(['web', 'app', 'voice', 'wechat', 'email', 'sms', 'other']);
export const LocaleSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale must be a BCP 47 tag');

export const TurnFields = {
  /** One model reply to one or more customer messages. */
  turnId: z.uuid(),
  /** 1 for the first generation of a turn; a redelivery that regenerates counts up. */
  attempt: z.number().int().min(1),
};

const StartedFields = {
  channel: ChannelSchema,
  locale: LocaleSchema.nullable(),
  /** Free-form labels from the frontend (queue, campaign...), small and flat. */
  labels: z.record(TextSchema.max(64), TextSchema.max(256)),
};

/** Superseded by v2; kept so old streams still read (upcast to v2 with `configVersion` 0). */
export const ConversationStartedV1 = defineEvent(
  'conversation',
  'conversation.started',
  1,
  z.object(StartedFields).strict(),
  'A contact-centre frontend opened a conversation.',
);

export const ConversationStarted = defineEvent(
  'conversation',
  'conversation.started',
  2,
  z
    .object({
      ...StartedFields,
      /**
       * The version of the tenant's settings stream (prompt, limits; later intents and flows) the
       * conversation runs under for its whole life; 0 means the engine's defaults.
       */
      configVersion: z.number().int().min(0),
    })
    .strict(),
  'A contact-centre frontend opened a conversation, under a recorded version of the tenant settings.',
);

export const MessageReceived = defineEvent(
  'conversation',
  'conversation.message-received',
  1,
  z.object({ messageId: z.uuid(), text: personal(MessageTextSchema, MAX_MESSAGE_BYTES) }).strict(),
  'The customer sent a message.',
);

export const PromptMessageSchema = z
  .object({ role: z.enum(['system', 'user', 'assistant']), content: personal(TextSchema) })
  .strict();

export const ReplyRequested = defineEvent(
  'conversation',
  'conversation.reply-requested',
  1,
  z
    .object({
      turnId: z.uuid(),
      /** The customer messages this reply answers. */
      inReplyTo: z.array(z.uuid()).min(1),
      /** The exact prompt, kept so a turn can be audited and re-run without the session's config. */
      prompt: z.array(PromptMessageSchema).min(1),
      maxTokens: z.number().int().min(1).max(4096),
    })
    .strict(),
  'The session asked for a model reply.',
);

export const ReplyChunkGenerated = defineEvent(
  'conversation',
  'conversation.reply-chunk-generated',
  1,
  z
    .object({
      ...TurnFields,
      /** 0-based order of this chunk within its attempt. */
      chunkIndex: z.number().int().min(0),
      text: personal(TextSchema.min(1)),
    })
    .strict(),
  'Part of a reply was generated; several tokens are batched into one chunk.',
);

/** Superseded by v2 (which says which backend and model wrote which part); read as v2 with one part. */
export const ReplyCompletedV1 = defineEvent(
  'conversation',
  'conversation.reply-completed',
  1,
  z
    .object({
      ...TurnFields,
      text: personal(TextSchema),
      model: TextSchema,
      finishReason: z.enum(['stop', 'length', 'content_filter', 'other']),
      usage: z
        .object({ promptTokens: z.number().int().min(0), completionTokens: z.number().int().min(0) })
        .strict(),
      /** Model time measured by inference; the engine's own overhead is end-to-end minus these. */
      timings: z.object({ firstTokenMs: z.number().min(0).nullable(), totalMs: z.number().min(0) }).strict(),
    })
    .strict(),
  'The model reply is complete; this is the reply the customer receives.',
);

export const ReplyFailed = defineEvent(
  'conversation',
  'conversation.reply-failed',
  1,
  z
    .object({
      ...TurnFields,
      code: z.enum(['model-timeout', 'model-unavailable', 'model-error']),
      message: TextSchema.max(2000),
    })
    .strict(),
  'No reply could be generated for the turn.',
);

export const ConversationClosed = defineEvent(
  'conversation',
  'conversation.closed',
  1,
  z.object({ reason: z.enum(['closed-by-frontend', 'customer-left', 'resolved']) }).strict(),
  'The conversation ended; no further messages are accepted.',
);
