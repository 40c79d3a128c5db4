import type { ConversationEvent, EngineEvent } from '@contracts';

/** One row of the analysts' conversation list: what a conversation's events add up to. */
export interface ConversationSummary {
  tenantId: string;
  conversationId: string;
  status: 'open' | 'closed';
  channel: string;
  locale: string | null;
  configVersion: number;
  startedAt: string;
  lastActivityAt: string;
  messages: number;
  turnsCompleted: number;
  turnsFailed: number;
  promptTokens: number;
  completionTokens: number;
  closedReason: string | null;
  /** The last event folded in; an event at or below it is already counted. */
  lastSequence: number;
}

/**
 * summarize(row, event) -> row. Pure, so rebuilding from the start of the store gives exactly the rows
 * the live projection wrote. Events of other stream kinds and chunks change nothing.
 */
export function summarize(
  row: ConversationSummary | undefined,
  event: EngineEvent,
): ConversationSummary | undefined {
  if (!('conversationId' in event)) return row;
  if (row && event.sequence <= row.lastSequence) return row;
  if (!row) return event.type === 'conversation.started.v2' ? started(event) : undefined;
  const next = { ...row, lastSequence: event.sequence, lastActivityAt: event.occurredAt };
  switch (event.type) {
    case 'conversation.started.v2':
      return next;
    case 'conversation.message-received.v1':
      return { ...next, messages: row.messages + 1 };
    case 'conversation.reply-requested.v1':
    case 'conversation.reply-chunk-generated.v1':
    case 'conversation.model-task-requested.v1':
    case 'conversation.model-task-completed.v1':
    case 'conversation.model-task-failed.v1':
    case 'conversation.knowledge-retrieved.v1':
    case 'conversation.reply-backend-switched.v1':
      return { ...row, lastSequence: event.sequence };
    case 'conversation.knowledge-wait-expired.v1':
    case 'conversation.reference-assigned.v1':
    case 'conversation.intent-resolved.v1':
    case 'conversation.slot-filled.v1':
    case 'conversation.slot-corrected.v1':
    case 'conversation.slot-rejected.v1':
      return { ...row, lastSequence: event.sequence };
    case 'conversation.bot-message-sent.v1':
    case 'conversation.handed-off.v1':
    case 'conversation.agent-message-sent.v1':
    case 'conversation.returned-to-bot.v1':
      return next;
    case 'conversation.inactivity-timed-out.v1':
      return { ...next, status: 'closed', closedReason: 'inactivity-timeout' };
    case 'conversation.reply-completed.v2':
      return {
        ...next,
        turnsCompleted: row.turnsCompleted + 1,
        promptTokens: row.promptTokens + event.data.usage.promptTokens,
        completionTokens: row.completionTokens + event.data.usage.completionTokens,
      };
    case 'conversation.reply-failed.v1':
      return { ...next, turnsFailed: row.turnsFailed + 1 };
    case 'conversation.closed.v1':
      return { ...next, status: 'closed', closedReason: event.data.reason };
    default: {
      const unexpected: never = event;
      throw new Error(`unhandled event ${(unexpected as ConversationEvent).type}`);
    }
  }
}

function started(
  event: Extract<ConversationEvent, { type: 'conversation.started.v2' }>,
): ConversationSummary {
  return {
    tenantId: event.tenantId,
    conversationId: event.conversationId,
    status: 'open',
    channel: event.data.channel,
    locale: event.data.locale,
    configVersion: event.data.configVersion,
    startedAt: event.occurredAt,
    lastActivityAt: event.occurredAt,
    messages: 0,
    turnsCompleted: 0,
    turnsFailed: 0,
    promptTokens: 0,
    completionTokens: 0,
    closedReason: null,
    lastSequence: event.sequence,
  };
}
