import { z } from 'zod';
import { ReplyCompletedV1, TextSchema, TurnFields } from './conversation.events';
import { defineEvent } from './define-event';

/**
 * Which model server wrote a reply. Inference calls its backends by role (`primary`, `fallback`): a
 * turn may start on one and finish on another, and the customer must never see text twice, so the
 * switch is an event and the completion names the backend and model of every part of the text.
 */

/** A backend's role in inference's configuration: `primary`, `fallback`. */
export const BackendNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a lowercase backend name');

const BackendRefSchema = z.object({ backend: BackendNameSchema, model: TextSchema.min(1).max(200) }).strict();

/** Why a turn left a backend. */
export const BackendSwitchReasonSchema = z.enum([
  /** Refused, reset or dropped connection. */
  'connection-error',
  /** The server answered 5xx. */
  'server-error',
  /** No first token within the first-token deadline. */
  'first-token-timeout',
  /** The stream started, then no token came within the stall deadline. */
  'stalled',
  /** The stream ended without a finish reason. */
  'stream-truncated',
  /** The backend's circuit breaker was open: recent calls failed, so this one was not tried. */
  'circuit-open',
]);
export type BackendSwitchReason = z.infer<typeof BackendSwitchReasonSchema>;

/** One stretch of a reply's text and who wrote it: `text.slice(start, end)`, in UTF-16 code units. */
export const ReplyPartSchema = z
  .object({
    ...BackendRefSchema.shape,
    start: z.number().int().min(0),
    end: z.number().int().min(0),
  })
  .strict();

export const ReplyCompleted = defineEvent(
  'conversation',
  'conversation.reply-completed',
  2,
  z
    .object({
      ...ReplyCompletedV1.data.shape,
      /**
       * Who wrote which part, in order, covering `text` without gaps; one part unless the turn switched
       * backends mid-stream. `model` is the model of the last part (the one that finished the reply).
       */
      parts: z.array(ReplyPartSchema).min(1),
    })
    .strict(),
  'The model reply is complete; this is the reply the customer receives, with the backend of each part.',
);

export const ReplyBackendSwitched = defineEvent(
  'conversation',
  'conversation.reply-backend-switched',
  1,
  z
    .object({
      ...TurnFields,
      from: BackendRefSchema,
      to: BackendRefSchema,
      reason: BackendSwitchReasonSchema,
      /** Reply text already streamed to the customer; the new backend continues after it, never repeats it. */
      deliveredChars: z.number().int().min(0),
      message: TextSchema.max(2000),
    })
    .strict(),
  'A reply moved to another model backend; it continues from the text already delivered.',
);
