import type { ConversationEvent, EngineEvent } from '@contracts';

/** Turns not yet answered: what a latency is measured from. Kept in the row so the fold stays pure. */
export interface PendingTurns {
  /** Customer messages not yet covered by a reply request: messageId -> occurredAt. */
  messages: Record<string, string>;
  /** Requested replies not yet completed or failed: turnId -> occurredAt of its first message. */
  turns: Record<string, string>;
}

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
  /** The latest intent classified (classify-intent results), and every distinct one in order seen. */
  intent: string | null;
  intents: string[];
  /** Classify-intent tasks that failed, so sessions went on without an intent (its fallback). */
  intentFallbacks: number;
  /** Names of the slots an extraction filled with a value (values are not kept: they are personal data). */
  slotsFilled: string[];
  /**
   * Handed to a human. No event in the contracts says so yet: sessions' `conversation.handed-off`
   * sets these once it lands (one case in `summarize`); until then every row is false / null.
   */
  handedOff: boolean;
  handoffReason: string | null;
  /** Distinct models that wrote replies, in order seen. */
  models: string[];
  /** Per turn: message-received (the first of the messages it answers) to reply-completed, by occurredAt. */
  latencyTurns: number;
  latencyTotalMs: number;
  latencyMaxMs: number;
  /** Knowledge searches, and those with a backend down (keyword or vector degraded). */
  retrievals: number;
  retrievalsDegraded: number;
  pending: PendingTurns;
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
  // Machine work, not activity: the conversation's last activity stays where the people left it.
  const quiet = { ...row, lastSequence: event.sequence };
  switch (event.type) {
    case 'conversation.started.v2':
      return next;
    case 'conversation.message-received.v1':
      return {
        ...next,
        messages: row.messages + 1,
        pending: {
          ...row.pending,
          messages: { ...row.pending.messages, [event.data.messageId]: event.occurredAt },
        },
      };
    case 'conversation.reply-requested.v1':
      return { ...quiet, pending: turnRequested(row.pending, event.data.turnId, event.data.inReplyTo) };
    case 'conversation.reply-chunk-generated.v1':
    case 'conversation.model-task-requested.v1':
      return quiet;
    case 'conversation.model-task-completed.v1':
      return { ...quiet, ...understood(row, event.data.result) };
    case 'conversation.model-task-failed.v1':
      return event.data.kind === 'classify-intent'
        ? { ...quiet, intentFallbacks: row.intentFallbacks + 1 }
        : quiet;
    case 'conversation.knowledge-retrieved.v1': {
      const degraded = event.data.degraded.keyword || event.data.degraded.vector;
      return {
        ...quiet,
        retrievals: row.retrievals + 1,
        retrievalsDegraded: row.retrievalsDegraded + (degraded ? 1 : 0),
      };
    }
    case 'conversation.reply-backend-switched.v1':
    case 'conversation.answer-cache-hit.v1':
    case 'conversation.knowledge-wait-expired.v1':
    case 'conversation.reference-assigned.v1':
    case 'conversation.intent-resolved.v1':
    case 'conversation.slot-filled.v1':
    case 'conversation.slot-corrected.v1':
    case 'conversation.slot-rejected.v1':
      return quiet;
    case 'conversation.handed-off.v1':
      return { ...next, handedOff: true, handoffReason: event.data.reason };
    case 'conversation.content-flagged.v1':
      // A handoff by the word list is a handoff like any other; mask and block change nothing here.
      return event.data.action === 'handoff'
        ? { ...next, handedOff: true, handoffReason: 'content-filter' }
        : quiet;
    case 'conversation.bot-message-sent.v1':
    case 'conversation.agent-message-sent.v1':
    case 'conversation.returned-to-bot.v1':
      return next;
    case 'conversation.inactivity-timed-out.v1':
      return { ...next, status: 'closed', closedReason: 'inactivity-timeout' };
    case 'conversation.reply-completed.v2': {
      const since = row.pending.turns[event.data.turnId];
      const latencyMs = since === undefined ? null : Date.parse(event.occurredAt) - Date.parse(since);
      return {
        ...next,
        turnsCompleted: row.turnsCompleted + 1,
        promptTokens: row.promptTokens + event.data.usage.promptTokens,
        completionTokens: row.completionTokens + event.data.usage.completionTokens,
        models: withDistinct(row.models, event.data.model),
        latencyTurns: row.latencyTurns + (latencyMs === null ? 0 : 1),
        latencyTotalMs: row.latencyTotalMs + (latencyMs ?? 0),
        latencyMaxMs: Math.max(row.latencyMaxMs, latencyMs ?? 0),
        pending: turnEnded(row.pending, event.data.turnId),
      };
    }
    case 'conversation.reply-failed.v1':
      return {
        ...next,
        turnsFailed: row.turnsFailed + 1,
        pending: turnEnded(row.pending, event.data.turnId),
      };
    case 'conversation.erased.v1':
      // The summary holds no personal text to drop; the conversation is over (the machine closes it too).
      return {
        ...quiet,
        status: 'closed',
        closedReason: row.closedReason ?? 'erased',
        pending: { messages: {}, turns: {} },
      };
    case 'conversation.closed.v1':
      return {
        ...next,
        status: 'closed',
        closedReason: event.data.reason,
        pending: { messages: {}, turns: {} },
      };
    default: {
      const unexpected: never = event;
      throw new Error(`unhandled event ${(unexpected as ConversationEvent).type}`);
    }
  }
}

/** The average turn latency, or null when no turn was measured. */
export function averageLatencyMs(summary: ConversationSummary): number | null {
  return summary.latencyTurns === 0 ? null : Math.round(summary.latencyTotalMs / summary.latencyTurns);
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
    intent: null,
    intents: [],
    intentFallbacks: 0,
    slotsFilled: [],
    handedOff: false,
    handoffReason: null,
    models: [],
    latencyTurns: 0,
    latencyTotalMs: 0,
    latencyMaxMs: 0,
    retrievals: 0,
    retrievalsDegraded: 0,
    pending: { messages: {}, turns: {} },
    lastSequence: event.sequence,
  };
}

type TaskResult = Extract<
  ConversationEvent,
  { type: 'conversation.model-task-completed.v1' }
>['data']['result'];

function understood(
  row: ConversationSummary,
  result: TaskResult,
): Pick<ConversationSummary, 'intent' | 'intents' | 'slotsFilled'> {
  switch (result.kind) {
    case 'classify-intent':
      return {
        intent: result.label,
        intents: withDistinct(row.intents, result.label),
        slotsFilled: row.slotsFilled,
      };
    case 'extract-slots': {
      const filled = Object.entries(result.slots)
        .filter(([, value]) => value !== null)
        .map(([name]) => name);
      return {
        intent: row.intent,
        intents: row.intents,
        slotsFilled: filled.reduce(withDistinct, row.slotsFilled),
      };
    }
    case 'summarize':
      return { intent: row.intent, intents: row.intents, slotsFilled: row.slotsFilled };
    default: {
      const unexpected: never = result;
      throw new Error(`unhandled task result ${(unexpected as TaskResult).kind}`);
    }
  }
}

/** A turn answers its messages: it is timed from the earliest of them still waiting. */
function turnRequested(pending: PendingTurns, turnId: string, inReplyTo: readonly string[]): PendingTurns {
  const messages = { ...pending.messages };
  let since: string | undefined;
  for (const messageId of inReplyTo) {
    const at = messages[messageId];
    if (at !== undefined && (since === undefined || at < since)) since = at;
    delete messages[messageId];
  }
  return { messages, turns: since === undefined ? pending.turns : { ...pending.turns, [turnId]: since } };
}

function turnEnded(pending: PendingTurns, turnId: string): PendingTurns {
  if (!(turnId in pending.turns)) return pending;
  const turns = { ...pending.turns };
  delete turns[turnId];
  return { ...pending, turns };
}

function withDistinct(values: string[], value: string): string[] {
  return values.includes(value) ? values : [...values, value];
}
