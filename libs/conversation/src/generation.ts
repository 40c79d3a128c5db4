import type { EventData, PendingEvent } from '@contracts';
import { isActiveTurn } from './conversation.machine';
import { contextOf, type ConversationState } from './conversation.state';
import { DerivedIds } from './ids';

/**
 * The decisions around one model generation, shared by every service that generates: whether a turn
 * is still worth answering, which attempt comes next, and the events a generation produces. Pure.
 */

/** True while the conversation still waits on `turnId` (not answered, failed, closed or superseded). */
export function isTurnCurrent(state: ConversationState, turnId: string): boolean {
  return isActiveTurn(contextOf(state), turnId);
}

/** The attempt a new generation of the current turn runs as: one past the last attempt seen. */
export function nextAttempt(state: ConversationState, turnId: string): number | null {
  const turn = contextOf(state).activeTurn;
  return turn?.turnId === turnId ? turn.attempt + 1 : null;
}

export function replyChunk(turnId: string, attempt: number, chunkIndex: number, text: string): PendingEvent {
  return {
    eventId: DerivedIds.replyChunk(turnId, attempt, chunkIndex),
    type: 'conversation.reply-chunk-generated.v1',
    data: { turnId, attempt, chunkIndex, text },
  };
}

export type ReplyOutcome = Extract<
  PendingEvent,
  { type: 'conversation.reply-completed.v2' | 'conversation.reply-failed.v1' }
>;

export function replyCompleted(data: EventData<'conversation.reply-completed.v2'>): ReplyOutcome {
  return { eventId: DerivedIds.replyCompleted(data.turnId), type: 'conversation.reply-completed.v2', data };
}

export function replyBackendSwitched(
  data: EventData<'conversation.reply-backend-switched.v1'>,
  /** 0 for the turn attempt's first switch, then 1, ... */
  index: number,
): PendingEvent {
  return {
    eventId: DerivedIds.replyBackendSwitched(data.turnId, data.attempt, index),
    type: 'conversation.reply-backend-switched.v1',
    data,
  };
}

export function replyFailed(data: EventData<'conversation.reply-failed.v1'>): ReplyOutcome {
  return { eventId: DerivedIds.replyFailed(data.turnId), type: 'conversation.reply-failed.v1', data };
}

export type FailureCode = EventData<'conversation.reply-failed.v1'>['code'];

/** How a failed model call is recorded: a missed deadline, a server we could not reach, or anything else. */
export function failureCode(failure: { timedOut: boolean; connectionFailed: boolean }): FailureCode {
  if (failure.timedOut) return 'model-timeout';
  return failure.connectionFailed ? 'model-unavailable' : 'model-error';
}
