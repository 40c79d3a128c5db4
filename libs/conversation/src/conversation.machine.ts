import { assign, setup } from 'xstate';
import type { ConversationEvent, EventOfType } from '@contracts';

export interface TranscriptEntry {
  /** messageId for customer messages, turnId for assistant replies. */
  id: string;
  role: 'customer' | 'assistant';
  text: string;
  sequence: number;
}

export interface ActiveTurn {
  turnId: string;
  inReplyTo: string[];
  /** Highest generation attempt seen so far; 0 until the first chunk arrives. */
  attempt: number;
}

export interface ConversationContext {
  /** The tenant settings version this conversation runs under (conversation.started `configVersion`). */
  configVersion: number;
  channel: string | null;
  locale: string | null;
  labels: Record<string, string>;
  transcript: TranscriptEntry[];
  /** Customer messages not yet covered by a reply request. */
  pendingMessageIds: string[];
  activeTurn: ActiveTurn | null;
  turnsCompleted: number;
  lastFailure: { turnId: string; code: string; message: string } | null;
  closedReason: string | null;
}

export const INITIAL_CONTEXT: ConversationContext = {
  configVersion: 0,
  channel: null,
  locale: null,
  labels: {},
  transcript: [],
  pendingMessageIds: [],
  activeTurn: null,
  turnsCompleted: 0,
  lastFailure: null,
  closedReason: null,
};

type Of<T extends ConversationEvent['type']> = EventOfType<T>;

/** Whether `turnId` is the turn the conversation is waiting on: not answered, failed, closed or superseded. */
export const isActiveTurn = (context: ConversationContext, turnId: string): boolean =>
  context.activeTurn?.turnId === turnId;

/**
 * The conversation lifecycle. Driven only by stored events: no delays, no clock, no randomness,
 * so folding a stream through it always yields the state that was live.
 *
 *   new -> greeting -> answering <-> collecting -> closed
 */
export const conversationMachine = setup({
  types: { context: {} as ConversationContext, events: {} as ConversationEvent },
  guards: {
    isActiveTurn: ({ context, event }) =>
      'turnId' in event.data && isActiveTurn(context, (event.data as { turnId: string }).turnId),
    hasPendingMessages: ({ context }) => context.pendingMessageIds.length > 0,
  },
  actions: {
    recordStart: assign(({ event }) => {
      const { data } = event as Of<'conversation.started.v2'>;
      return {
        configVersion: data.configVersion,
        channel: data.channel,
        locale: data.locale,
        labels: data.labels,
      };
    }),
    recordCustomerMessage: assign(({ context, event }) => {
      const { data, sequence } = event as Of<'conversation.message-received.v1'>;
      return {
        transcript: [
          ...context.transcript,
          { id: data.messageId, role: 'customer' as const, text: data.text, sequence },
        ],
        pendingMessageIds: [...context.pendingMessageIds, data.messageId],
      };
    }),
    openTurn: assign(({ context, event }) => {
      const { data } = event as Of<'conversation.reply-requested.v1'>;
      return {
        activeTurn: { turnId: data.turnId, inReplyTo: data.inReplyTo, attempt: 0 },
        pendingMessageIds: context.pendingMessageIds.filter((id) => !data.inReplyTo.includes(id)),
      };
    }),
    trackAttempt: assign(({ context, event }) => {
      const { data } = event as Of<'conversation.reply-chunk-generated.v1'>;
      const turn = context.activeTurn;
      if (!turn || turn.turnId !== data.turnId || data.attempt <= turn.attempt) return {};
      return { activeTurn: { ...turn, attempt: data.attempt } };
    }),
    recordReply: assign(({ context, event }) => {
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
    recordFailure: assign(({ event }) => {
      const { data } = event as Of<'conversation.reply-failed.v1'>;
      return {
        activeTurn: null,
        lastFailure: { turnId: data.turnId, code: data.code, message: data.message },
      };
    }),
    recordClose: assign(({ event }) => {
      const { data } = event as Of<'conversation.closed.v1'>;
      return { closedReason: data.reason, activeTurn: null, pendingMessageIds: [] };
    }),
  },
}).createMachine({
  id: 'conversation',
  initial: 'new',
  context: INITIAL_CONTEXT,
  states: {
    new: {
      on: { 'conversation.started.v2': { target: 'greeting', actions: 'recordStart' } },
    },
    greeting: {
      on: {
        'conversation.message-received.v1': { target: 'answering', actions: 'recordCustomerMessage' },
        'conversation.closed.v1': { target: 'closed', actions: 'recordClose' },
      },
    },
    collecting: {
      on: {
        'conversation.message-received.v1': { target: 'answering', actions: 'recordCustomerMessage' },
        'conversation.closed.v1': { target: 'closed', actions: 'recordClose' },
      },
    },
    answering: {
      on: {
        'conversation.message-received.v1': { actions: 'recordCustomerMessage' },
        'conversation.reply-requested.v1': { actions: 'openTurn' },
        'conversation.reply-chunk-generated.v1': { actions: 'trackAttempt' },
        'conversation.reply-completed.v2': [
          { guard: { type: 'isActiveTurn' }, actions: 'recordReply', target: 'routeAfterTurn' },
        ],
        'conversation.reply-failed.v1': [
          { guard: { type: 'isActiveTurn' }, actions: 'recordFailure', target: 'routeAfterTurn' },
        ],
        'conversation.closed.v1': { target: 'closed', actions: 'recordClose' },
      },
    },
    /** Transient: messages that arrived during the turn keep the conversation answering. */
    routeAfterTurn: {
      always: [{ guard: 'hasPendingMessages', target: 'answering' }, { target: 'collecting' }],
    },
    closed: { type: 'final' },
  },
});

export type ConversationStatus = 'new' | 'greeting' | 'collecting' | 'answering' | 'closed';
