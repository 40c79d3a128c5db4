import { z } from 'zod';
import { MAX_STREAM_SEQUENCE } from './envelope';

/**
 * Frames of the `/v1/ws` WebSocket (RFC 6455, one JSON object per text frame).
 * Client -> server: subscribe, unsubscribe, ping. Server -> client: subscribed, event, state, error, pong.
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
    })
    .strict(),
  z.object({ type: z.literal('unsubscribe'), conversationId: z.uuid() }).strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);

export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export type ServerFrame =
  | { type: 'subscribed'; conversationId: string; state: unknown }
  | { type: 'event'; event: unknown }
  | { type: 'state'; state: unknown }
  | { type: 'error'; code: string; detail: string; conversationId?: string }
  | { type: 'pong' };
