import { Inject, Injectable } from '@nestjs/common';
import { AppError, type ConversationEvent } from '@contracts';
import { DerivedIds, statusOf } from '@libs/conversation';
import { ConversationStreams, EventStore, streamRef } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { CloseConversationCommand, CloseConversationHandler } from '../close-conversation';
import type { ConversationRef } from '../conversation-ref';
import { ConversationIdSchema } from '../conversations.schemas';
import { SendMessageCommand, SendMessageHandler } from '../send-message';
import { StartConversationCommand, StartConversationHandler } from '../start-conversation';
import { ConversationDirectory } from './conversation-directory';
import { ConversationListeners } from './conversation-listeners';
import { advanceTurn, followTurn, type TurnOutcome } from './turn-reply';
import type { ChatConversation, CompleteChatCommand } from './complete-chat.command';

export const CHAT_COMPLETION_TIMEOUT_MS = Symbol('CHAT_COMPLETION_TIMEOUT_MS');

/** A store read now and then, should a Kafka notification never come (a replica that joined late). */
const POLL_MS = 1_000;
/** A user's conversations are walked past closed ones; this many closed ones is a client gone wrong. */
const MAX_USER_GENERATIONS = 10_000;

export interface ChatTurn {
  ref: ConversationRef;
  messageId: string;
  /** The reply's text as it streams; returns how the answer ended. */
  replies: AsyncGenerator<string, TurnOutcome>;
}

interface Resolved {
  ref: ConversationRef;
  /** With a person: the bot says nothing, so nothing is waited for. */
  handedOff: boolean;
  oneTurn: boolean;
}

/**
 * One chat completion: the request's last user message becomes the conversation's next customer
 * message, exactly as POST /v1/conversations/{id}/messages records it, and the engine's usual turn
 * (sessions, retrieval, inference) answers it. The reply is followed through the events this replica
 * consumes, read from the store in stream order, so a retry with the same Idempotency-Key replays the
 * same reply instead of asking for another.
 */
@Injectable()
export class CompleteChatHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(StartConversationHandler) private readonly startConversation: StartConversationHandler,
    @Inject(SendMessageHandler) private readonly sendMessage: SendMessageHandler,
    @Inject(CloseConversationHandler) private readonly closeConversation: CloseConversationHandler,
    @Inject(ConversationDirectory) private readonly directory: ConversationDirectory,
    @Inject(ConversationListeners) private readonly listeners: ConversationListeners,
    @Inject(CHAT_COMPLETION_TIMEOUT_MS) private readonly timeoutMs: number,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async execute(command: CompleteChatCommand, signal: AbortSignal): Promise<ChatTurn> {
    const resolved = await this.resolve(command.tenantId, command.conversation, command.idempotencyKey);
    const { ref } = resolved;
    // Listening before the append: a reply faster than the next line is still heard.
    const inbox: ConversationEvent[] = [];
    let wake: (() => void) | null = null;
    const stop = this.listeners.listen(ref.tenantId, ref.conversationId, (event) => {
      inbox.push(event);
      wake?.();
    });
    try {
      const accepted = await this.sendMessage.execute(
        new SendMessageCommand(ref, command.text, command.idempotencyKey),
      );
      const next = () => new Promise<void>((resolve) => (wake = resolve));
      const replies = this.follow(resolved, accepted.messageId, accepted.sequence, inbox, next, stop, signal);
      return { ref, messageId: accepted.messageId, replies };
    } catch (error) {
      stop();
      throw error;
    }
  }

  private async *follow(
    { ref, handedOff, oneTurn }: Resolved,
    messageId: string,
    messageSequence: number,
    inbox: ConversationEvent[],
    next: () => Promise<void>,
    stop: () => void,
    signal: AbortSignal,
  ): AsyncGenerator<string, TurnOutcome> {
    const deadline = Date.now() + this.timeoutMs;
    let turn = followTurn(messageId);
    let last = messageSequence;
    let read = true;
    try {
      if (handedOff) return { kind: 'replied', text: '', finishReason: 'stop', usage: null };
      while (!turn.outcome) {
        signal.throwIfAborted();
        if (Date.now() >= deadline) {
          throw new AppError('reply-timed-out', undefined, { conversationId: ref.conversationId, messageId });
        }
        const events = read
          ? await this.store.read('conversation', streamRef(ref), { afterSequence: last })
          : inbox.splice(0);
        read = false;
        for (const event of events) {
          if (event.sequence <= last) continue;
          // A gap: this replica missed an event; the store has it, in order.
          if (event.sequence !== last + 1) {
            read = true;
            break;
          }
          last = event.sequence;
          const step = advanceTurn(turn, event);
          turn = step.turn;
          if (step.delta !== null) yield step.delta;
          if (turn.outcome) break;
        }
        if (turn.outcome || read || inbox.length > 0) continue;
        read = await wakeOrPoll(next(), Math.min(POLL_MS, Math.max(deadline - Date.now(), 0)), signal);
      }
      if (oneTurn) await this.closeOneTurn(ref);
      return turn.outcome;
    } finally {
      stop();
    }
  }

  private async resolve(
    tenantId: string,
    conversation: ChatConversation,
    idempotencyKey: string | null,
  ): Promise<Resolved> {
    switch (conversation.kind) {
      case 'named': {
        if (!ConversationIdSchema.safeParse(conversation.conversationId).success) {
          throw new AppError('conversation-not-found', 'X-Conversation-Id names no conversation (a UUID)');
        }
        const ref = { tenantId, conversationId: conversation.conversationId };
        const status = await this.openOrStart(ref, 'named');
        return { ref, handedOff: status === 'handed-off', oneTurn: false };
      }
      case 'user': {
        for (let generation = 0; generation < MAX_USER_GENERATIONS; generation++) {
          const conversationId = DerivedIds.openAiUserConversation(tenantId, conversation.user, generation);
          const ref = { tenantId, conversationId };
          const status = await this.openOrStart(ref, 'derived');
          if (status !== 'closed' && status !== 'archived') {
            return { ref, handedOff: status === 'handed-off', oneTurn: false };
          }
        }
        throw new AppError('conversation-closed', 'this user has closed too many conversations');
      }
      case 'one-turn': {
        const conversationId = idempotencyKey
          ? DerivedIds.openAiOneTurnConversation(tenantId, idempotencyKey)
          : undefined;
        if (conversationId === undefined) {
          const view = await this.startConversation.execute(
            new StartConversationCommand(tenantId, FACADE_CONVERSATION),
          );
          return { ref: { tenantId, conversationId: view.conversationId }, handedOff: false, oneTurn: true };
        }
        const ref = { tenantId, conversationId };
        const status = await this.openOrStart(ref, 'derived');
        return { ref, handedOff: status === 'handed-off', oneTurn: true };
      }
      default: {
        const unexpected: never = conversation;
        throw new Error(`unhandled conversation ${JSON.stringify(unexpected)}`);
      }
    }
  }

  /** The conversation's status, after starting it when it did not exist yet. */
  private async openOrStart(ref: ConversationRef, origin: 'named' | 'derived'): Promise<string> {
    const status = statusOf(await this.streams.load(ref));
    if (status !== 'new') return status;
    // A derived id names this tenant's own conversation; a client-named one may be another tenant's.
    if (origin === 'named' && (await this.directory.heldByAnotherTenant(ref.tenantId, ref.conversationId))) {
      throw new AppError('conversation-not-found');
    }
    try {
      return (
        await this.startConversation.execute(
          new StartConversationCommand(ref.tenantId, FACADE_CONVERSATION, ref.conversationId),
        )
      ).status;
    } catch (error) {
      // Two first calls at once: the other one started it.
      if (error instanceof AppError && error.code === 'conversation-exists') {
        return statusOf(await this.streams.load(ref));
      }
      throw error;
    }
  }

  /** A call without a conversation is a conversation of one turn: closed once answered. */
  private async closeOneTurn(ref: ConversationRef): Promise<void> {
    try {
      await this.closeConversation.execute(new CloseConversationCommand(ref, 'resolved'));
    } catch (error) {
      // The answer stands; an open one-turn conversation is archived by its inactivity timer anyway.
      this.logger.warn(
        { err: error, conversationId: ref.conversationId },
        'could not close a one-turn conversation',
      );
    }
  }
}

/** How facade conversations start: no locale (the model answers in the customer's language). */
const FACADE_CONVERSATION = { channel: 'other' as const, locale: null, labels: { via: 'openai-api' } };

/** Resolves false when woken by an event, true when the poll interval passed (read the store). */
async function wakeOrPoll(woken: Promise<void>, pollMs: number, signal: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      woken.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), pollMs);
        onAbort = () => resolve(true);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
