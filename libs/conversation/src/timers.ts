import type { PendingEvent } from '@contracts';
import { contextOf, statusOf, type ConversationState } from './conversation.state';
import { DerivedIds } from './ids';

/**
 * What a clock decides, as events: the durable scheduler reads the clock, fires a timer, and these pure
 * deciders say whether the timer still means something. The event id derives from the timer, so a
 * timer that fires twice (a crash between appending and marking it fired) appends once.
 */

export interface InactivityTimer {
  kind: 'inactivity';
  timerId: string;
  lastActivitySequence: number;
  timeoutSeconds: number;
}

export interface KnowledgeWaitTimer {
  kind: 'knowledge-wait';
  timerId: string;
  messageId: string;
  waitedMs: number;
}

export type ConversationTimer = InactivityTimer | KnowledgeWaitTimer;

const LIVE = new Set(['greeting', 'answering', 'collecting', 'handed-off']);

export function inactivityTimer(
  conversationId: string,
  lastActivitySequence: number,
  timeoutSeconds: number,
): InactivityTimer {
  return {
    kind: 'inactivity',
    timerId: DerivedIds.inactivityTimer(conversationId, lastActivitySequence),
    lastActivitySequence,
    timeoutSeconds,
  };
}

export function knowledgeWaitTimer(messageId: string, waitedMs: number): KnowledgeWaitTimer {
  return { kind: 'knowledge-wait', timerId: DerivedIds.knowledgeWaitTimer(messageId), messageId, waitedMs };
}

/** The events a fired timer appends: none when the customer spoke since, or the turn went on. */
export function decideTimerFired(state: ConversationState, timer: ConversationTimer): PendingEvent[] {
  const eventId = DerivedIds.timerFired(timer.timerId);
  const context = contextOf(state);
  switch (timer.kind) {
    case 'inactivity':
      if (!LIVE.has(statusOf(state)) || context.lastCustomerActivitySequence !== timer.lastActivitySequence) {
        return [];
      }
      return [
        {
          eventId,
          type: 'conversation.inactivity-timed-out.v1',
          data: {
            timerId: timer.timerId,
            lastActivitySequence: timer.lastActivitySequence,
            timeoutSeconds: timer.timeoutSeconds,
          },
        },
      ];
    case 'knowledge-wait': {
      const entry = context.understanding[timer.messageId];
      if (statusOf(state) !== 'answering' || !entry || entry.knowledge !== null || entry.knowledgeWaitOver) {
        return [];
      }
      return [
        {
          eventId,
          type: 'conversation.knowledge-wait-expired.v1',
          data: { timerId: timer.timerId, messageId: timer.messageId, waitedMs: timer.waitedMs },
        },
      ];
    }
    default: {
      const unexpected: never = timer;
      throw new Error(`unknown timer ${JSON.stringify(unexpected)}`);
    }
  }
}
