import { z } from 'zod';
import { MAX_STREAM_SEQUENCE } from './envelope';
import { ConversationEventSchema } from './events';
import {
  CompactConversationViewSchema,
  ConversationViewSchema,
  ErrorCodeSchema,
  TranscriptEntrySchema,
} from './views';

/** How a subscription receives the state after each change: with the transcript each time, or without. */
export const StateFramesSchema = z.enum(['full', 'compact']);

export type StateFrames = z.infer<typeof StateFramesSchema>;

/**
 * Frames of the `/v1/ws` WebSocket (RFC 6455, one JSON object per text frame).
 * Client -> server: subscribe, unsubscribe, ping. Server -> client: subscribed, event, state (or
 * state-compact), error, pong.
 */
export const ClientFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('subscribe'),
      conversationId: z.uuid(),
      /**
       * Replay stored events after this sequence before live ones (0: the whole stream); omit for live
       * only. Past the stream's end it is refused with an error frame that names the stream's version.
       */
      afterSequence: z.number().int().min(0).max(MAX_STREAM_SEQUENCE).optional(),
      /**
       * `full` (the default): a `state` frame with the whole view, transcript included, after each
       * change. `compact`: a `state-compact` frame instead, with the view without its transcript and the
       * transcript entries added since the previous one, so frames do not grow with the conversation.
       */
      stateFrames: StateFramesSchema.optional(),
    })
    .strict(),
  z.object({ type: z.literal('unsubscribe'), conversationId: z.uuid() }).strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);

export type ClientFrame = z.infer<typeof ClientFrameSchema>;

/** What the gateway sends; clients validate every frame with this one schema. */
export const ServerFrameSchema = z.discriminatedUnion('type', [
  /** The subscription is live; `state` is the conversation as of the subscribe. */
  z.object({ type: z.literal('subscribed'), conversationId: z.uuid(), state: ConversationViewSchema }),
  /** Every event of a subscribed conversation, in stream order, each once (reply chunks included). */
  z.object({ type: z.literal('event'), event: ConversationEventSchema }),
  /** The conversation after an event that changed it (not sent after reply chunks). */
  z.object({ type: z.literal('state'), state: ConversationViewSchema }),
  /**
   * Instead of `state`, for a subscription with `stateFrames: "compact"`: the conversation after an event
   * that changed it, without its transcript, and the transcript entries added since the previous state
   * (or `subscribed`) frame of that subscription. The `subscribed` transcript followed by every
   * `transcriptAdded` is the whole transcript; `state.transcriptLength` counts it.
   */
  z.object({
    type: z.literal('state-compact'),
    state: CompactConversationViewSchema,
    transcriptAdded: z.array(TranscriptEntrySchema),
  }),
  /** A refused or malformed frame; `conversationId` when it concerns one subscription. */
  z.object({
    type: z.literal('error'),
    code: ErrorCodeSchema,
    detail: z.string(),
    conversationId: z.uuid().optional(),
  }),
  z.object({ type: z.literal('pong') }),
]);

export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type ServerFrameOfType<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
