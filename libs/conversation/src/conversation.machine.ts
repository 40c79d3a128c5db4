import { assign, setup } from 'xstate';
import type { Citation, ConversationEvent, EventOfType, ModelTaskKind } from '@contracts';

export interface TranscriptEntry {
  /** messageId for customer, bot and agent messages, turnId for model replies. */
  id: string;
  role: 'customer' | 'assistant' | 'agent';
  text: string;
  sequence: number;
}

export interface ActiveTurn {
  turnId: string;
  inReplyTo: string[];
  /** Highest generation attempt seen so far; 0 until the first chunk arrives. */
  attempt: number;
}

export type SlotValue = string | number;

export interface FilledSlot {
  value: SlotValue;
  source: 'pattern' | 'model';
  messageId: string;
  sequence: number;
}

export type Classification =
  | { status: 'done'; label: string; confidence: number; path: 'fast' | 'llm'; model: string }
  | { status: 'failed'; code: string };

/** What is known so far about one customer message the bot has not acted on yet. */
export interface MessageUnderstanding {
  messageId: string;
  text: string;
  sequence: number;
  /** The message's time: relative dates in it resolve against this, never a clock. */
  occurredAt: string;
  classifyTaskId: string | null;
  classification: Classification | null;
  /** Slots the extract-slots tasks of this message were asked for, and what they answered. */
  extractTaskIds: string[];
  extracted: Record<string, SlotValue | null>;
  resolved: { intent: string; failed: boolean } | null;
  rejectedSlots: string[];
  /** Null until retrieval answered for this message. */
  knowledge: Citation[] | null;
  knowledgeWaitOver: boolean;
}

export interface ResolvedIntent {
  name: string;
  label: string | null;
  confidence: number;
  path: 'fast' | 'llm' | 'fallback';
  messageId: string;
  sequence: number;
}

export interface Handoff {
  reason: 'customer-request' | 'complaint' | 'failed-turns' | 'content-filter';
  intent: string | null;
  sinceSequence: number;
}

export interface ConversationContext {
  /** The tenant settings version this conversation runs under (conversation.started `configVersion`). */
  configVersion: number;
  channel: string | null;
  locale: string | null;
  labels: Record<string, string>;
  reference: string | null;
  transcript: TranscriptEntry[];
  /** Customer messages the bot has not answered (by a reply request, a template or a handoff) yet. */
  pendingMessageIds: string[];
  understanding: Record<string, MessageUnderstanding>;
  /** Model tasks asked for and not answered yet. */
  openTasks: Record<string, { kind: ModelTaskKind; messageId: string | null }>;
  activeTurn: ActiveTurn | null;
  turnsCompleted: number;
  lastFailure: { turnId: string; code: string; message: string } | null;
  /** The intent the bot acts on: the last one recognised. */
  intent: ResolvedIntent | null;
  slots: Record<string, FilledSlot>;
  /** The slot the bot last asked for, until the customer answers. */
  awaitingSlot: string | null;
  summary: { text: string; coversUpToSequence: number } | null;
  handoff: Handoff | null;
  /** Consecutive turns the bot could not help with. */
  failedTurns: number;
  /** The customer's last activity (start or message): inactivity is counted from it. */
  lastCustomerActivitySequence: number;
  closedReason: string | null;
}

export const INITIAL_CONTEXT: ConversationContext = {
  configVersion: 0,
  channel: null,
  locale: null,
  labels: {},
  reference: null,
  transcript: [],
  pendingMessageIds: [],
  understanding: {},
  openTasks: {},
  activeTurn: null,
  turnsCompleted: 0,
  lastFailure: null,
  intent: null,
  slots: {},
  awaitingSlot: null,
  summary: null,
  handoff: null,
  failedTurns: 0,
  lastCustomerActivitySequence: 0,
  closedReason: null,
};

type Of<T extends ConversationEvent['type']> = EventOfType<T>;

/** Whether `turnId` is the turn the conversation is waiting on: not answered, failed, closed or superseded. */
export const isActiveTurn = (context: ConversationContext, turnId: string): boolean =>
  context.activeTurn?.turnId === turnId;

function withoutKeys<V>(record: Record<string, V>, keys: readonly string[]): Record<string, V> {
  const copy = { ...record };
  for (const key of keys) delete copy[key];
  return copy;
}

function updateUnderstanding(
  context: ConversationContext,
  messageId: string,
  change: (entry: MessageUnderstanding) => Partial<MessageUnderstanding>,
): Pick<ConversationContext, 'understanding'> | Record<string, never> {
  const entry = context.understanding[messageId];
  if (!entry) return {};
  return { understanding: { ...context.understanding, [messageId]: { ...entry, ...change(entry) } } };
}

/** The customer messages `inReplyTo` are answered: they leave the pending list and their understanding. */
function answered(context: ConversationContext, inReplyTo: readonly string[]) {
  return {
    pendingMessageIds: context.pendingMessageIds.filter((id) => !inReplyTo.includes(id)),
    understanding: withoutKeys(context.understanding, inReplyTo),
  };
}

function fillSlot(
  context: ConversationContext,
  event: Of<'conversation.slot-filled.v1'> | Of<'conversation.slot-corrected.v1'>,
) {
  const { data, sequence } = event;
  return {
    slots: {
      ...context.slots,
      [data.slot]: { value: data.value, source: data.source, messageId: data.messageId, sequence },
    },
    awaitingSlot: context.awaitingSlot === data.slot ? null : context.awaitingSlot,
  };
}

/**
 * The machine's context: the conversation under one key. xstate copies the whole context with
 * `Object.assign({}, context, update)` on every assign, and V8 keeps an object built that way with 20
 * properties as a slow dictionary (~3.9 µs a copy on Node 20, half of a fold's time, and slower reads
 * after it). One key makes xstate's copy trivial; `record` builds the new conversation by spread, which
 * keeps fast properties (bench/RESULTS.md, "Conversation fold").
 */
export interface ConversationMachineContext {
  conversation: ConversationContext;
}

type Recorder = (args: {
  context: ConversationContext;
  event: ConversationEvent;
}) => Partial<ConversationContext>;

/** An assign on the conversation: `recorder` returns the fields that change. */
function record(recorder: Recorder) {
  return assign<ConversationMachineContext, ConversationEvent, undefined, ConversationEvent, never>(
    ({ context, event }) => {
      const changes = recorder({ context: context.conversation, event });
      // Most reply chunks change nothing: the conversation object stays the same one.
      if (Object.keys(changes).length === 0) return {};
      return { conversation: { ...context.conversation, ...changes } };
    },
  );
}

/**
 * The conversation. Driven only by stored events: no delays, no clock, no randomness, so folding a
 * stream through it always yields the state that was live. What the bot does next is decided outside
 * (libs/conversation deciders) and comes back as events; the machine records where that leaves it.
 *
 *   new -> greeting -> answering <-> collecting -> closed | archived
 *                        answering | collecting -> handed-off -> collecting (returned to the bot)
 *
 * An event a state does not name is recorded (it is in the stream) and changes nothing here.
 */
export const conversationMachine = setup({
  types: { context: {} as ConversationMachineContext, events: {} as ConversationEvent },
  guards: {
    isFilterHandoff: ({ event }) =>
      (event as Of<'conversation.content-flagged.v1'>).data.action === 'handoff',
    isActiveTurn: ({ context, event }) =>
      'turnId' in event.data && isActiveTurn(context.conversation, (event.data as { turnId: string }).turnId),
    hasPendingMessages: ({ context }) => context.conversation.pendingMessageIds.length > 0,
    isCurrentSilence: ({ context, event }) =>
      (event as Of<'conversation.inactivity-timed-out.v1'>).data.lastActivitySequence ===
      context.conversation.lastCustomerActivitySequence,
  },
  actions: {
    recordStart: record(({ event }) => {
      const { data, sequence } = event as Of<'conversation.started.v2'>;
      return {
        configVersion: data.configVersion,
        channel: data.channel,
        locale: data.locale,
        labels: data.labels,
        lastCustomerActivitySequence: sequence,
      };
    }),
    recordReference: record(({ event }) => ({
      reference: (event as Of<'conversation.reference-assigned.v1'>).data.reference,
    })),
    recordCustomerMessage: record(({ context, event }) => {
      const { data, sequence, occurredAt } = event as Of<'conversation.message-received.v1'>;
      return {
        transcript: [
          ...context.transcript,
          { id: data.messageId, role: 'customer' as const, text: data.text, sequence },
        ],
        pendingMessageIds: [...context.pendingMessageIds, data.messageId],
        understanding: {
          ...context.understanding,
          [data.messageId]: {
            messageId: data.messageId,
            text: data.text,
            sequence,
            occurredAt,
            classifyTaskId: null,
            classification: null,
            extractTaskIds: [],
            extracted: {},
            resolved: null,
            rejectedSlots: [],
            knowledge: null,
            knowledgeWaitOver: false,
          },
        },
        lastCustomerActivitySequence: sequence,
      };
    }),
    /** While handed off the customer still talks, to the agent: recorded, never answered by the bot. */
    recordMessageToAgent: record(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.message-received.v1'>;
      return {
        transcript: [
          ...context.transcript,
          { id: data.messageId, role: 'customer' as const, text: data.text, sequence },
        ],
        lastCustomerActivitySequence: sequence,
      };
    }),
    recordTaskRequested: record(({ context, event }) => {
      const { data } = event as Of<'conversation.model-task-requested.v1'>;
      const task = data.task;
      const open = { ...context.openTasks, [data.taskId]: { kind: task.kind, messageId: data.messageId } };
      if (data.messageId === null || task.kind === 'summarize') return { openTasks: open };
      return {
        openTasks: open,
        ...updateUnderstanding(context, data.messageId, (entry) =>
          task.kind === 'classify-intent'
            ? { classifyTaskId: data.taskId }
            : { extractTaskIds: [...entry.extractTaskIds, data.taskId] },
        ),
      };
    }),
    recordTaskCompleted: record(({ context, event }) => {
      const { data } = event as Of<'conversation.model-task-completed.v1'>;
      const task = context.openTasks[data.taskId];
      if (!task) return {};
      const openTasks = withoutKeys(context.openTasks, [data.taskId]);
      const result = data.result;
      if (result.kind === 'summarize') {
        return {
          openTasks,
          summary: { text: result.summary, coversUpToSequence: result.coversUpToSequence },
        };
      }
      if (task.messageId === null) return { openTasks };
      return {
        openTasks,
        ...updateUnderstanding(context, task.messageId, (entry) =>
          result.kind === 'classify-intent'
            ? {
                classification: {
                  status: 'done' as const,
                  label: result.label,
                  confidence: result.confidence,
                  path: result.path,
                  model: data.model,
                },
              }
            : { extracted: { ...entry.extracted, ...result.slots } },
        ),
      };
    }),
    recordTaskFailed: record(({ context, event }) => {
      const { data } = event as Of<'conversation.model-task-failed.v1'>;
      const task = context.openTasks[data.taskId];
      if (!task) return {};
      const openTasks = withoutKeys(context.openTasks, [data.taskId]);
      if (task.messageId === null || task.kind !== 'classify-intent') return { openTasks };
      return {
        openTasks,
        ...updateUnderstanding(context, task.messageId, () => ({
          classification: { status: 'failed' as const, code: data.code },
        })),
      };
    }),
    recordKnowledge: record(({ context, event }) => {
      const { data } = event as Of<'conversation.knowledge-retrieved.v1'>;
      return updateUnderstanding(context, data.messageId, (entry) =>
        entry.knowledge === null ? { knowledge: data.results } : {},
      );
    }),
    recordKnowledgeWaitExpired: record(({ context, event }) => {
      const { data } = event as Of<'conversation.knowledge-wait-expired.v1'>;
      return updateUnderstanding(context, data.messageId, () => ({ knowledgeWaitOver: true }));
    }),
    recordIntent: record(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.intent-resolved.v1'>;
      const known = updateUnderstanding(context, data.messageId, () => ({
        resolved: { intent: data.intent, failed: data.failed },
      }));
      if (!('understanding' in known)) return {};
      const switched = context.intent !== null && context.intent.name !== data.intent;
      return {
        ...known,
        intent: {
          name: data.intent,
          label: data.label,
          confidence: data.confidence,
          path: data.path,
          messageId: data.messageId,
          sequence,
        },
        failedTurns: data.failed ? context.failedTurns + 1 : 0,
        // A question asked for another intent no longer waits for its answer.
        awaitingSlot: switched ? null : context.awaitingSlot,
      };
    }),
    recordSlotFilled: record(({ context, event }) =>
      fillSlot(context, event as Of<'conversation.slot-filled.v1'>),
    ),
    recordSlotCorrected: record(({ context, event }) =>
      fillSlot(context, event as Of<'conversation.slot-corrected.v1'>),
    ),
    recordSlotRejected: record(({ context, event }) => {
      const { data } = event as Of<'conversation.slot-rejected.v1'>;
      return updateUnderstanding(context, data.messageId, (entry) => ({
        rejectedSlots: [...entry.rejectedSlots, data.slot],
      }));
    }),
    recordBotMessage: record(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.bot-message-sent.v1'>;
      return {
        ...answered(context, data.inReplyTo),
        transcript: [
          ...context.transcript,
          { id: data.messageId, role: 'assistant' as const, text: data.text, sequence },
        ],
        awaitingSlot: data.slot ?? context.awaitingSlot,
      };
    }),
    openTurn: record(({ context, event }) => {
      const { data } = event as Of<'conversation.reply-requested.v1'>;
      return {
        activeTurn: { turnId: data.turnId, inReplyTo: data.inReplyTo, attempt: 0 },
        ...answered(context, data.inReplyTo),
      };
    }),
    trackAttempt: record(({ context, event }) => {
      const { data } = event as Of<'conversation.reply-chunk-generated.v1'>;
      const turn = context.activeTurn;
      if (!turn || turn.turnId !== data.turnId || data.attempt <= turn.attempt) return {};
      return { activeTurn: { ...turn, attempt: data.attempt } };
    }),
    recordReply: record(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.reply-completed.v2'>;
      return {
        transcript: [
          ...context.transcript,
          { id: data.turnId, role: 'assistant' as const, text: data.text, sequence },
        ],
        activeTurn: null,
        turnsCompleted: context.turnsCompleted + 1,
        lastFailure: null,
      };
    }),
    recordFailure: record(({ context, event }) => {
      const { data } = event as Of<'conversation.reply-failed.v1'>;
      return {
        activeTurn: null,
        lastFailure: { turnId: data.turnId, code: data.code, message: data.message },
        failedTurns: context.failedTurns + 1,
      };
    }),
    recordHandoff: record(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.handed-off.v1'>;
      return {
        ...answered(context, context.pendingMessageIds),
        handoff: { reason: data.reason, intent: data.intent, sinceSequence: sequence },
        awaitingSlot: null,
        activeTurn: null,
      };
    }),
    recordFilterHandoff: record(({ context, event }) => {
      const { sequence } = event as Of<'conversation.content-flagged.v1'>;
      return {
        ...answered(context, context.pendingMessageIds),
        handoff: { reason: 'content-filter' as const, intent: null, sinceSequence: sequence },
        awaitingSlot: null,
        activeTurn: null,
      };
    }),
    recordAgentMessage: record(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.agent-message-sent.v1'>;
      return {
        transcript: [
          ...context.transcript,
          { id: data.messageId, role: 'agent' as const, text: data.text, sequence },
        ],
      };
    }),
    recordReturn: record(() => ({ handoff: null, failedTurns: 0 })),
    recordClose: record(({ context, event }) => {
      const { data } = event as Of<'conversation.closed.v1'>;
      return { closedReason: data.reason, activeTurn: null, ...answered(context, context.pendingMessageIds) };
    }),
    recordErasure: record(({ context }) => ({
      closedReason: 'erased',
      activeTurn: null,
      ...answered(context, context.pendingMessageIds),
    })),
    recordTimeout: record(({ context }) => ({
      closedReason: 'inactivity-timeout',
      activeTurn: null,
      ...answered(context, context.pendingMessageIds),
    })),
  },
}).createMachine({
  id: 'conversation',
  initial: 'new',
  context: { conversation: INITIAL_CONTEXT },
  // Facts that hold in any live state; the final states name none, so they ignore them.
  on: {
    'conversation.reference-assigned.v1': { actions: 'recordReference' },
    'conversation.model-task-completed.v1': { actions: 'recordTaskCompleted' },
    'conversation.model-task-failed.v1': { actions: 'recordTaskFailed' },
    'conversation.closed.v1': { target: '.closed', actions: 'recordClose' },
    // Erased text cannot be answered or added to: the conversation is over.
    'conversation.erased.v1': { target: '.closed', actions: 'recordErasure' },
    'conversation.inactivity-timed-out.v1': {
      guard: 'isCurrentSilence',
      target: '.archived',
      actions: 'recordTimeout',
    },
  },
  states: {
    new: {
      on: {
        'conversation.started.v2': { target: 'greeting', actions: 'recordStart' },
        // Before the start nothing else applies, not even the facts above.
        'conversation.reference-assigned.v1': {},
        'conversation.model-task-completed.v1': {},
        'conversation.model-task-failed.v1': {},
        'conversation.closed.v1': {},
        'conversation.erased.v1': {},
        'conversation.inactivity-timed-out.v1': {},
      },
    },
    greeting: {
      on: {
        'conversation.message-received.v1': { target: 'answering', actions: 'recordCustomerMessage' },
      },
    },
    collecting: {
      on: {
        'conversation.message-received.v1': { target: 'answering', actions: 'recordCustomerMessage' },
        'conversation.model-task-requested.v1': { actions: 'recordTaskRequested' },
        'conversation.slot-corrected.v1': { actions: 'recordSlotCorrected' },
        'conversation.handed-off.v1': { target: 'handed-off', actions: 'recordHandoff' },
        // The tenant's word list hands this message (or the bot's reply to it) to a human.
        'conversation.content-flagged.v1': {
          guard: 'isFilterHandoff',
          target: 'handed-off',
          actions: 'recordFilterHandoff',
        },
        // A turn that was superseded may still finish after its successor's template was sent.
        'conversation.reply-chunk-generated.v1': { actions: 'trackAttempt' },
        'conversation.reply-completed.v2': [{ guard: 'isActiveTurn', actions: 'recordReply' }],
        'conversation.reply-failed.v1': [{ guard: 'isActiveTurn', actions: 'recordFailure' }],
      },
    },
    answering: {
      on: {
        'conversation.message-received.v1': { actions: 'recordCustomerMessage' },
        'conversation.model-task-requested.v1': { actions: 'recordTaskRequested' },
        'conversation.knowledge-retrieved.v1': { actions: 'recordKnowledge' },
        'conversation.knowledge-wait-expired.v1': { actions: 'recordKnowledgeWaitExpired' },
        'conversation.intent-resolved.v1': { actions: 'recordIntent' },
        'conversation.slot-filled.v1': { actions: 'recordSlotFilled' },
        'conversation.slot-corrected.v1': { actions: 'recordSlotCorrected' },
        'conversation.slot-rejected.v1': { actions: 'recordSlotRejected' },
        'conversation.bot-message-sent.v1': { actions: 'recordBotMessage', target: 'routeAfterTurn' },
        'conversation.reply-requested.v1': { actions: 'openTurn' },
        'conversation.reply-chunk-generated.v1': { actions: 'trackAttempt' },
        'conversation.reply-completed.v2': [
          { guard: 'isActiveTurn', actions: 'recordReply', target: 'routeAfterTurn' },
        ],
        'conversation.reply-failed.v1': [
          { guard: 'isActiveTurn', actions: 'recordFailure', target: 'routeAfterTurn' },
        ],
        'conversation.handed-off.v1': { target: 'handed-off', actions: 'recordHandoff' },
        // The tenant's word list hands this message (or the bot's reply to it) to a human.
        'conversation.content-flagged.v1': {
          guard: 'isFilterHandoff',
          target: 'handed-off',
          actions: 'recordFilterHandoff',
        },
      },
    },
    /** Transient: messages that arrived during the turn keep the conversation answering. */
    routeAfterTurn: {
      always: [
        { guard: 'hasPendingMessages', target: 'answering' },
        { guard: ({ context }) => context.conversation.activeTurn !== null, target: 'answering' },
        { target: 'collecting' },
      ],
    },
    'handed-off': {
      on: {
        'conversation.message-received.v1': { actions: 'recordMessageToAgent' },
        'conversation.agent-message-sent.v1': { actions: 'recordAgentMessage' },
        'conversation.returned-to-bot.v1': { target: 'collecting', actions: 'recordReturn' },
      },
    },
    closed: { type: 'final' },
    archived: { type: 'final' },
  },
});

export type ConversationStatus =
  'new' | 'greeting' | 'collecting' | 'answering' | 'handed-off' | 'closed' | 'archived';
