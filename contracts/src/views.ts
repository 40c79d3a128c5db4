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
export const ConversationStatusSchema = z.enum([
  'new',
  'greeting',
  'collecting',
  'answering',
  'handed-off',
  'closed',
  'archived',
]);

export const TranscriptEntrySchema = z.object({
  /** messageId for customer, bot-template and agent messages, turnId for model replies. */
  id: z.uuid(),
  role: z.enum(['customer', 'assistant', 'agent']),
  text: z.string(),
  sequence: z.number().int().min(1),
});

export const SlotValueViewSchema = z.object({
  value: z.union([z.string(), z.number()]),
  /** `pattern`: a validator found it in the text; `model`: the extract-slots task did. */
  source: z.enum(['pattern', 'model']),
  messageId: z.uuid(),
  sequence: z.number().int().min(1),
});

/** What the bot understood and where the conversation stands: the machine's state, as of one event. */
const UnderstandingFields = {
  /** The intent the bot acts on (the last one recognised), with how it was recognised. */
  intent: z
    .object({
      name: z.string(),
      label: z.string().nullable(),
      confidence: z.number(),
      path: z.enum(['fast', 'llm', 'fallback']),
      messageId: z.uuid(),
      sequence: z.number().int().min(1),
    })
    .nullable(),
  slots: z.record(z.string(), SlotValueViewSchema),
  /** The slot the bot last asked for, until the customer answers. */
  awaitingSlot: z.string().nullable(),
  /** Older turns folded by the summarize task; prompts use it with the turns after it. */
  summary: z.object({ text: z.string(), coversUpToSequence: z.number().int().min(1) }).nullable(),
  /** Set while a human agent has the conversation; the bot stays silent. */
  handoff: z
    .object({
      /** `content-filter`: the tenant's word list hands messages of a category to a human. */
      reason: z.enum(['customer-request', 'complaint', 'failed-turns', 'content-filter']),
      intent: z.string().nullable(),
      sinceSequence: z.number().int().min(1),
    })
    .nullable(),
  /** Consecutive turns the bot could not help with (the tenant's handoffAfterFailedTurns hands off). */
  failedTurns: z.number().int().min(0),
};

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
    /** `<tenant>-<yyyymmdd>-<8 chars>`, to read over the phone; null for conversations from before references. */
    reference: z.string().nullable(),
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
    ...UnderstandingFields,
  })
  .meta({
    title: 'Conversation',
    description: 'The conversation state: its event stream replayed through the conversation machine.',
  });

export type ConversationView = z.infer<typeof ConversationViewSchema>;

/**
 * The conversation state without its transcript, for WebSocket subscribers that keep the transcript
 * themselves (`stateFrames: "compact"`): a state frame then stays the same size however long the
 * conversation grows, instead of carrying every message again after every event.
 */
export const CompactConversationViewSchema = ConversationViewSchema.omit({ transcript: true })
  .extend({
    /** Entries the full view's transcript has: what a subscriber's own copy should count. */
    transcriptLength: z.number().int().min(0),
  })
  .meta({
    title: 'CompactConversation',
    description: 'The conversation state without its transcript, with the transcript’s length.',
  });

export type CompactConversationView = z.infer<typeof CompactConversationViewSchema>;

/** `GET /v1/conversations/{id}/state?at=<sequence>`: the machine's state as of one event. */
export const ConversationStateAtSchema = z
  .object({
    conversationId: z.uuid(),
    /** The sequence of the last event folded in (the `at` asked for, or the stream's end). */
    at: z.number().int().min(1),
    status: ConversationStatusSchema,
    configVersion: z.number().int().min(0),
    reference: z.string().nullable(),
    pendingMessageIds: z.array(z.uuid()),
    closedReason: z.string().nullable(),
    ...UnderstandingFields,
  })
  .meta({
    title: 'ConversationStateAt',
    description: 'The conversation machine’s state after one event: its stream folded up to that sequence.',
  });

export type ConversationStateAt = z.infer<typeof ConversationStateAtSchema>;

/** `GET /v1/conversations?reference=`: the conversations with that reference (zero or one). */
export const ConversationSearchSchema = z.object({
  conversations: z.array(
    z.object({
      conversationId: z.uuid(),
      reference: z.string(),
      startedAt: z.iso.datetime({ offset: true }),
    }),
  ),
});

export type ConversationSearch = z.infer<typeof ConversationSearchSchema>;

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
