import type { ConversationEvent } from '@contracts';

/** How the bot's answer to one customer message ended. */
export type TurnOutcome =
  | {
      kind: 'replied';
      text: string;
      finishReason: 'stop' | 'length' | 'content_filter';
      /** The model's own counts; null for a fixed text sent without a model (a template). */
      usage: { promptTokens: number; completionTokens: number } | null;
    }
  | { kind: 'failed'; code: string; message: string }
  | { kind: 'closed' };

/** Follows the events after a customer message to the bot's answer to it. */
export interface TurnReply {
  messageId: string;
  /** The model reply that answers the message, once sessions asked for one. */
  turnId: string | null;
  /** The generation attempt whose chunks are streamed; a regeneration's chunks are not mixed in. */
  attempt: number | null;
  outcome: TurnOutcome | null;
}

export function followTurn(messageId: string): TurnReply {
  return { messageId, turnId: null, attempt: null, outcome: null };
}

/**
 * Applies the next event of the conversation (in stream order): returns the reply text it adds, if
 * any, and sets the outcome once the answer is complete. Pure, so the same events always give the same
 * deltas: a stream replayed from the store after a retry says what the live one said.
 */
export function advanceTurn(
  turn: TurnReply,
  event: ConversationEvent,
): { turn: TurnReply; delta: string | null } {
  if (turn.outcome) return { turn, delta: null };
  const answers = (inReplyTo: readonly string[]) => inReplyTo.includes(turn.messageId);
  switch (event.type) {
    case 'conversation.reply-requested.v1':
      return answers(event.data.inReplyTo)
        ? { turn: { ...turn, turnId: event.data.turnId }, delta: null }
        : { turn, delta: null };
    case 'conversation.reply-chunk-generated.v1': {
      if (event.data.turnId !== turn.turnId) return { turn, delta: null };
      const attempt = turn.attempt ?? event.data.attempt;
      if (event.data.attempt !== attempt) return { turn, delta: null };
      return { turn: { ...turn, attempt }, delta: event.data.text };
    }
    case 'conversation.reply-completed.v2':
      if (event.data.turnId !== turn.turnId) return { turn, delta: null };
      return {
        turn: {
          ...turn,
          outcome: {
            kind: 'replied',
            text: event.data.text,
            finishReason: event.data.finishReason === 'other' ? 'stop' : event.data.finishReason,
            usage: event.data.usage,
          },
        },
        delta: null,
      };
    case 'conversation.reply-failed.v1':
      if (event.data.turnId !== turn.turnId) return { turn, delta: null };
      return {
        turn: { ...turn, outcome: { kind: 'failed', code: event.data.code, message: event.data.message } },
        delta: null,
      };
    case 'conversation.bot-message-sent.v1':
      // A fixed text (a question for a missing slot, a handoff notice): the whole answer at once.
      if (!answers(event.data.inReplyTo)) return { turn, delta: null };
      return {
        turn: {
          ...turn,
          outcome: { kind: 'replied', text: event.data.text, finishReason: 'stop', usage: null },
        },
        delta: event.data.text,
      };
    case 'conversation.handed-off.v1':
      // Handed off without a notice: a person answers later (REST, WebSocket), the bot says nothing.
      if (!answers(event.data.inReplyTo)) return { turn, delta: null };
      return {
        turn: { ...turn, outcome: { kind: 'replied', text: '', finishReason: 'stop', usage: null } },
        delta: null,
      };
    case 'conversation.closed.v1':
    case 'conversation.inactivity-timed-out.v1':
    case 'conversation.erased.v1':
      return { turn: { ...turn, outcome: { kind: 'closed' } }, delta: null };
    case 'conversation.started.v2':
    case 'conversation.message-received.v1':
    case 'conversation.model-task-requested.v1':
    case 'conversation.model-task-completed.v1':
    case 'conversation.model-task-failed.v1':
    case 'conversation.knowledge-retrieved.v1':
    case 'conversation.reference-assigned.v1':
    case 'conversation.intent-resolved.v1':
    case 'conversation.slot-filled.v1':
    case 'conversation.slot-corrected.v1':
    case 'conversation.slot-rejected.v1':
    case 'conversation.agent-message-sent.v1':
    case 'conversation.returned-to-bot.v1':
    case 'conversation.knowledge-wait-expired.v1':
    case 'conversation.reply-backend-switched.v1':
    case 'conversation.answer-cache-hit.v1':
    case 'conversation.content-flagged.v1':
      return { turn, delta: null };
    default: {
      const unexpected: never = event;
      throw new Error(`unhandled event ${(unexpected as ConversationEvent).type}`);
    }
  }
}
