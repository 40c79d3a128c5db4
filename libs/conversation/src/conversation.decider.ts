import { AppError, type EventData, type PendingEvent, type TenantSettings } from '@contracts';
import type { ConversationState } from './conversation.state';
import { contextOf, statusOf } from './conversation.state';
import { DerivedIds } from './ids';

/** Commands a frontend can issue. Ids are generated at the edge and passed in, never inside. */
export type ConversationCommand =
  | { type: 'start-conversation'; eventId: string; data: EventData<'conversation.started.v2'> }
  | { type: 'receive-message'; eventId: string; messageId: string; text: string }
  | { type: 'close-conversation'; eventId: string; reason: EventData<'conversation.closed.v1'>['reason'] };

/**
 * decide(command, state) -> events. Pure: rejects with a coded error, or returns what happened.
 * Re-sending a message with the same id is not an error: it has already happened, so nothing new.
 */
export function decide(command: ConversationCommand, state: ConversationState): PendingEvent[] {
  const status = statusOf(state);
  switch (command.type) {
    case 'start-conversation':
      if (status !== 'new') throw new AppError('conversation-exists');
      return [{ eventId: command.eventId, type: 'conversation.started.v2', data: command.data }];
    case 'receive-message': {
      if (status === 'new') throw new AppError('conversation-not-found');
      const seen = contextOf(state).transcript.find((entry) => entry.id === command.messageId);
      // A retry must repeat the request; a reused key with another text would silently drop it.
      if (seen && seen.text !== command.text) throw new AppError('idempotency-key-reused');
      if (seen) return [];
      if (status === 'closed') throw new AppError('conversation-closed');
      return [
        {
          eventId: command.eventId,
          type: 'conversation.message-received.v1',
          data: { messageId: command.messageId, text: command.text },
        },
      ];
    }
    case 'close-conversation':
      if (status === 'new') throw new AppError('conversation-not-found');
      if (status === 'closed') return [];
      return [{ eventId: command.eventId, type: 'conversation.closed.v1', data: { reason: command.reason } }];
    default:
      return assertNever(command);
  }
}

export interface ReplyPolicy {
  systemPrompt: string;
  /** How many transcript entries (customer and assistant) the prompt carries. */
  historyLimit: number;
  maxTokens: number;
}

/** The engine's defaults overridden by what the tenant configured (absent settings keep the default). */
export function replyPolicyFor(defaults: ReplyPolicy, settings: TenantSettings): ReplyPolicy {
  return {
    systemPrompt: settings.systemPrompt ?? defaults.systemPrompt,
    historyLimit: settings.historyLimit ?? defaults.historyLimit,
    maxTokens: settings.replyMaxTokens ?? defaults.maxTokens,
  };
}

/**
 * The session's reaction: when customer messages wait and no turn is open, ask for a reply.
 * The turn id is derived from the messages it answers, so reprocessing yields the same event.
 */
export function decideReply(state: ConversationState, policy: ReplyPolicy): PendingEvent[] {
  const context = contextOf(state);
  if (
    statusOf(state) !== 'answering' ||
    context.activeTurn !== null ||
    context.pendingMessageIds.length === 0
  ) {
    return [];
  }
  const conversationId = state.conversationId ?? '';
  const turnId = DerivedIds.turn(conversationId, context.pendingMessageIds);
  // The messages being answered go last, after replies that were streaming when they arrived, so the
  // prompt ends with the open question. slice(-0) would keep everything: a limit of 0 means no history.
  const pending = new Set(context.pendingMessageIds);
  const ordered = [
    ...context.transcript.filter((entry) => !pending.has(entry.id)),
    ...context.transcript.filter((entry) => pending.has(entry.id)),
  ];
  const recent = policy.historyLimit > 0 ? ordered.slice(-policy.historyLimit) : [];
  const history = recent.map((entry) => ({
    role: entry.role === 'customer' ? ('user' as const) : ('assistant' as const),
    content: entry.text,
  }));
  return [
    {
      eventId: DerivedIds.replyRequested(turnId),
      type: 'conversation.reply-requested.v1',
      data: {
        turnId,
        inReplyTo: [...context.pendingMessageIds],
        prompt: [{ role: 'system', content: policy.systemPrompt }, ...history],
        maxTokens: policy.maxTokens,
      },
    },
  ];
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
