import { AppError, type Citation, type EventData, type PendingEvent, type TenantSettings } from '@contracts';
import type { ConversationState } from './conversation.state';
import { contextOf, statusOf } from './conversation.state';
import { DerivedIds } from './ids';
import { fitPrompt, promptBudget, type ChatMessage } from './prompt-budget';

/** Commands a frontend can issue. Ids are generated at the edge and passed in, never inside. */
export type ConversationCommand =
  | {
      type: 'start-conversation';
      eventId: string;
      data: EventData<'conversation.started.v2'>;
      /** The readable reference, drawn at the edge (random) and recorded with the start. */
      reference?: string;
    }
  | { type: 'receive-message'; eventId: string; messageId: string; text: string }
  | { type: 'close-conversation'; eventId: string; reason: EventData<'conversation.closed.v1'>['reason'] }
  | { type: 'send-agent-message'; eventId: string; messageId: string; agentId: string; text: string }
  | { type: 'return-to-bot'; eventId: string; agentId: string };

/**
 * decide(command, state) -> events. Pure: rejects with a coded error, or returns what happened.
 * Re-sending a message with the same id is not an error: it has already happened, so nothing new.
 */
export function decide(command: ConversationCommand, state: ConversationState): PendingEvent[] {
  const status = statusOf(state);
  switch (command.type) {
    case 'start-conversation':
      if (status !== 'new') throw new AppError('conversation-exists');
      return [
        { eventId: command.eventId, type: 'conversation.started.v2', data: command.data },
        ...(command.reference === undefined
          ? []
          : [
              {
                eventId: DerivedIds.referenceAssigned(command.eventId),
                type: 'conversation.reference-assigned.v1' as const,
                data: { reference: command.reference },
              },
            ]),
      ];
    case 'receive-message': {
      if (status === 'new') throw new AppError('conversation-not-found');
      const seen = contextOf(state).transcript.find((entry) => entry.id === command.messageId);
      // A retry must repeat the request; a reused key with another text would silently drop it.
      if (seen && seen.text !== command.text) throw new AppError('idempotency-key-reused');
      if (seen) return [];
      if (status === 'closed' || status === 'archived') throw new AppError('conversation-closed');
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
      if (status === 'closed' || status === 'archived') return [];
      return [{ eventId: command.eventId, type: 'conversation.closed.v1', data: { reason: command.reason } }];
    case 'send-agent-message': {
      if (status === 'new') throw new AppError('conversation-not-found');
      const seen = contextOf(state).transcript.find((entry) => entry.id === command.messageId);
      if (seen && seen.text !== command.text) throw new AppError('idempotency-key-reused');
      if (seen) return [];
      if (status === 'closed' || status === 'archived') throw new AppError('conversation-closed');
      // Only a handed-off conversation has an agent; otherwise the bot is the one answering.
      if (status !== 'handed-off') throw new AppError('conversation-not-handed-off');
      return [
        {
          eventId: command.eventId,
          type: 'conversation.agent-message-sent.v1',
          data: { messageId: command.messageId, agentId: command.agentId, text: command.text },
        },
      ];
    }
    case 'return-to-bot':
      if (status === 'new') throw new AppError('conversation-not-found');
      if (status === 'closed' || status === 'archived') throw new AppError('conversation-closed');
      if (status !== 'handed-off') throw new AppError('conversation-not-handed-off');
      return [
        {
          eventId: command.eventId,
          type: 'conversation.returned-to-bot.v1',
          data: { agentId: command.agentId },
        },
      ];
    default:
      return assertNever(command);
  }
}

export interface ReplyPolicy {
  systemPrompt: string;
  /** How many transcript entries (customer and assistant) the prompt carries. */
  historyLimit: number;
  maxTokens: number;
  /**
   * The context window of the smallest model the request may be served by (primary, fallback, canary:
   * the prompt is decided before routing). llama-server splits `-c` between its `-np` slots.
   */
  contextTokens: number;
}

/** The engine's defaults overridden by what the tenant configured (absent settings keep the default). */
export function replyPolicyFor(defaults: ReplyPolicy, settings: TenantSettings): ReplyPolicy {
  return {
    systemPrompt: settings.systemPrompt ?? defaults.systemPrompt,
    historyLimit: settings.historyLimit ?? defaults.historyLimit,
    maxTokens: settings.replyMaxTokens ?? defaults.maxTokens,
    contextTokens: defaults.contextTokens,
  };
}

/**
 * The reply request for the waiting customer messages, when no turn is open. The turn id is derived
 * from the messages it answers, so reprocessing yields the same event. The prompt carries the tenant's
 * instructions, the knowledge found for the turn (cited as [n]), the request and its slots, the summary
 * of older turns and the recent turns verbatim, cut to the model's context window (prompt-budget.ts): it
 * is recorded exactly as sent.
 */
export function decideReply(
  state: ConversationState,
  policy: ReplyPolicy,
  turn: { knowledge: readonly Citation[] } = { knowledge: [] },
): PendingEvent[] {
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
  const covered = context.summary?.coversUpToSequence ?? 0;
  const transcript = context.transcript.filter((entry) => entry.sequence > covered || pending.has(entry.id));
  const ordered = [
    ...transcript.filter((entry) => !pending.has(entry.id)),
    ...transcript.filter((entry) => pending.has(entry.id)),
  ];
  const recent = policy.historyLimit > 0 ? ordered.slice(-policy.historyLimit) : [];
  const history = recent.map(chatMessageOf);
  // The open question goes in even with no history allowed: a reply needs something to answer.
  const latest = chatMessageOf(ordered.at(-1) ?? { role: 'customer', text: '' });
  const language = languageOf(latest.content);
  const { messages } = fitPrompt(
    {
      systemPrompt: policy.systemPrompt,
      knowledge: turn.knowledge.map((hit, index) => `[${index + 1}] ${hit.title}: ${hit.text}`),
      request: requestLine(context),
      summary: context.summary?.text ?? null,
      // Named for each turn, last: a small model follows the conversation's earlier language otherwise (a
      // 1.5B model answered an English question in Chinese after a Chinese turn in 2 tries of 2 without
      // this, in English in 3 of 3 with it).
      closing:
        language === null
          ? null
          : `The customer's last message is in ${language}: write your reply in ${language}.`,
      history: history.slice(0, -1),
      latest,
    },
    promptBudget(policy.contextTokens, policy.maxTokens),
  );
  return [
    {
      eventId: DerivedIds.replyRequested(turnId),
      type: 'conversation.reply-requested.v1',
      data: {
        turnId,
        inReplyTo: [...context.pendingMessageIds],
        prompt: messages,
        maxTokens: policy.maxTokens,
      },
    },
  ];
}

/**
 * The language of a customer message, when its script tells: any Han character makes it Chinese (an
 * order number or a brand name in Latin letters does not make a Chinese message English).
 */
export function languageOf(text: string): 'Chinese' | 'English' | null {
  if (/\p{Script=Han}/u.test(text)) return 'Chinese';
  if (/[A-Za-z]/.test(text)) return 'English';
  return null;
}

function chatMessageOf(entry: { role: string; text: string }): ChatMessage {
  return { role: entry.role === 'customer' ? 'user' : 'assistant', content: entry.text };
}

function requestLine(context: ReturnType<typeof contextOf>): string | null {
  if (context.intent === null) return null;
  const slots = Object.entries(context.slots).map(([name, slot]) => `${name}: ${String(slot.value)}`);
  return (
    `The customer's request: ${context.intent.name}.` +
    (slots.length > 0 ? ` Details already given: ${slots.join('; ')}.` : '')
  );
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
