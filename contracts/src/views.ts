import { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode } from './errors';
import { ConversationEventSchema } from './events';

/**
 * What the gateway answers over REST and in WebSocket `state` frames. Like the events, each response
 * has one runtime schema: the gateway's OpenAPI document is generated from it, clients validate with
 * it, and libs/conversation's `ConversationView` is its inferred type. Objects are not strict, so a
 * client keeps reading when a later gateway adds a field (tolerant reader).
 */

/** The machine's states; `new` never reaches a view, since a conversation exists from its started event. */
export const ConversationStatusSchema = z.enum(['new', 'greeting', 'collecting', 'answering', 'closed']);

export const TranscriptEntrySchema = z.object({
  /** messageId for customer messages, turnId for assistant replies. */
  id: z.uuid(),
  role: z.enum(['customer', 'assistant']),
  text: z.string(),
  sequence: z.number().int().min(1),
});

export const ConversationViewSchema = z
  .object({
    conversationId: z.uuid(),
    tenantId: z.string(),
    status: ConversationStatusSchema,
    /** Sequence of the last event applied. */
    version: z.number().int().min(0),
    startedAt: z.iso.datetime({ offset: true }),
    lastActivityAt: z.iso.datetime({ offset: true }),
    /** The tenant settings version the conversation runs under (0: the engine's defaults). */
    configVersion: z.number().int().min(0),
    channel: z.string().nullable(),
    locale: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    transcript: z.array(TranscriptEntrySchema),
    /** Customer messages not yet covered by a reply request. */
    pendingMessageIds: z.array(z.uuid()),
    activeTurn: z
      .object({
        turnId: z.uuid(),
        inReplyTo: z.array(z.uuid()),
        /** Highest generation attempt seen so far; 0 until the first chunk arrives. */
        attempt: z.number().int().min(0),
      })
      .nullable(),
    turnsCompleted: z.number().int().min(0),
    lastFailure: z.object({ turnId: z.uuid(), code: z.string(), message: z.string() }).nullable(),
    closedReason: z.string().nullable(),
  })
  .meta({
    title: 'Conversation',
    description: 'The conversation state: its event stream replayed through the conversation machine.',
  });

export type ConversationView = z.infer<typeof ConversationViewSchema>;

/** `202` to `POST /v1/conversations/{id}/messages`. */
export const MessageAcceptedSchema = z.object({
  conversationId: z.uuid(),
  messageId: z.uuid(),
  /** The message's position in the conversation's event stream. */
  sequence: z.number().int().min(1),
});

export type MessageAccepted = z.infer<typeof MessageAcceptedSchema>;

/** `GET /v1/conversations/{id}/events`: one page of the stream. */
export const EventPageSchema = z.object({
  conversationId: z.uuid(),
  events: z.array(ConversationEventSchema),
  /** Pass as `after` for the next page; null when this page reaches the end of the stream. */
  nextAfter: z.number().int().min(0).nullable(),
});

export type EventPage = z.infer<typeof EventPageSchema>;

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]]);

/** RFC 9457 problem details, as every service answers an error (`application/problem+json`). */
export const ProblemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: ErrorCodeSchema,
  detail: z.string().optional(),
  instance: z.string().optional(),
  /** Present on 5xx; quote it when reporting. */
  errorId: z.string().optional(),
});

export type Problem = z.infer<typeof ProblemSchema>;
