import { createHash } from 'node:crypto';
import type { EventData, PendingEvent } from '@contracts';
import { contextOf, type ConversationState } from './conversation.state';
import type { TurnPolicy } from './dialogue.decider';
import { replyCompleted } from './generation';
import { derivedId } from './ids';

/**
 * The tenant answer cache's decisions, pure. Sessions owns the cache (it decides the turn, knows the
 * tenant and sees the knowledge base change); a hit never reaches inference: the turn's reply request
 * is appended together with the hit and the completion, so inference finds the turn already answered.
 *
 * Only a pure FAQ turn is cacheable: the conversation's first question alone (no earlier turn, no
 * summary: the reply could lean on them), no slot filled and an intent that has none. The key covers
 * the whole system message too (instructions, retrieved excerpts, language), so a changed prompt or
 * different excerpts never reuse an answer; the knowledge base changing empties the tenant's cache.
 */

/** The backend and model a cached reply's completion names, so clients and metrics can tell. */
export const ANSWER_CACHE_BACKEND = 'answer-cache';

/** Width, case, whitespace and punctuation do not make another question: "Refund time？" = "refund time". */
export function normaliseQuestion(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

export interface CacheableTurn {
  turnId: string;
  cacheKey: string;
}

/** The cache key of the reply `decided` requests, when the turn is a pure FAQ question; else null. */
export function cacheableTurn(
  tenantId: string,
  state: ConversationState,
  decided: readonly PendingEvent[],
  policy: Pick<TurnPolicy, 'intents'>,
): CacheableTurn | null {
  const requested = replyRequestIn(decided);
  if (requested === null) return null;
  const context = contextOf(state);
  // `state` is before `decided`: the same decision may resolve the intent and fill slots (a question that
  // carries its order number, classified after its knowledge arrived).
  const resolvedNow = decided.find((event) => event.type === 'conversation.intent-resolved.v1');
  const intentName = resolvedNow ? resolvedNow.data.intent : context.intent?.name;
  const intent = policy.intents.find((candidate) => candidate.name === intentName);
  const slotsFilledNow = decided.some(
    (event) =>
      event.type === 'conversation.slot-filled.v1' || event.type === 'conversation.slot-corrected.v1',
  );
  const [system, question, ...rest] = requested.prompt;
  if (
    requested.inReplyTo.length !== 1 ||
    system?.role !== 'system' ||
    question?.role !== 'user' ||
    rest.length > 0 ||
    context.summary !== null ||
    // Not only the prompt: the budget may have cut earlier turns out of it (prompt-budget.ts).
    context.transcript.some((entry) => entry.id !== requested.inReplyTo[0]) ||
    Object.keys(context.slots).length > 0 ||
    slotsFilledNow ||
    (intent?.slots.length ?? 0) > 0
  ) {
    return null;
  }
  const normalised = normaliseQuestion(question.content);
  if (normalised === '') return null;
  const cacheKey = createHash('sha256')
    .update(JSON.stringify([tenantId, system.content, normalised]))
    .digest('hex');
  return { turnId: requested.turnId, cacheKey };
}

export interface CachedAnswer {
  sourceConversationId: string;
  sourceTurnId: string;
  text: string;
}

/** The source turn's reply text, from the source conversation's state; null once gone (erased). */
export function answerOfTurn(source: ConversationState, turnId: string): string | null {
  const entry = contextOf(source).transcript.find((item) => item.id === turnId && item.role === 'assistant');
  return entry === undefined || entry.text === '' ? null : entry.text;
}

/** What a cache hit appends after the reply request: the hit, then the completion with the cached text. */
export function answerFromCache(turn: CacheableTurn, cached: CachedAnswer): PendingEvent[] {
  const completed: EventData<'conversation.reply-completed.v2'> = {
    turnId: turn.turnId,
    attempt: 1,
    text: cached.text,
    model: ANSWER_CACHE_BACKEND,
    finishReason: 'stop',
    usage: { promptTokens: 0, completionTokens: 0 },
    timings: { firstTokenMs: null, totalMs: 0 },
    parts: [
      { backend: ANSWER_CACHE_BACKEND, model: ANSWER_CACHE_BACKEND, start: 0, end: cached.text.length },
    ],
  };
  return [
    {
      eventId: derivedId('answer-cache-hit', turn.turnId),
      type: 'conversation.answer-cache-hit.v1',
      data: {
        turnId: turn.turnId,
        sourceConversationId: cached.sourceConversationId,
        sourceTurnId: cached.sourceTurnId,
        cacheKey: turn.cacheKey,
      },
    },
    replyCompleted(completed),
  ];
}

function replyRequestIn(
  decided: readonly PendingEvent[],
): EventData<'conversation.reply-requested.v1'> | null {
  const requests = decided.filter((event) => event.type === 'conversation.reply-requested.v1');
  const only = requests.length === 1 ? requests[0] : undefined;
  return only?.type === 'conversation.reply-requested.v1' ? only.data : null;
}
