import type { EventData, PendingEvent } from '@contracts';
import { derivedId } from './ids';

type Flag = EventData<'conversation.content-flagged.v1'>;

/** What a scan found, as the flagged event records it: categories and counts, never words or text. */
export interface ContentVerdict {
  action: Flag['action'];
  categories: string[];
  matches: number;
}

/**
 * The flagged event of a customer message (inbound), of a turn's reply or of a human agent's message
 * (outbound). Its id derives from the message (or the turn), so a retried POST or a regenerated reply
 * records the flag once.
 */
export type FlagSubject =
  | { direction: 'inbound'; messageId: string }
  | { direction: 'outbound'; turnId: string }
  | { direction: 'outbound'; agentMessageId: string };

export function contentFlagged(subject: FlagSubject, verdict: ContentVerdict): PendingEvent {
  const { action, categories, matches } = verdict;
  if ('turnId' in subject) {
    return {
      eventId: derivedId(subject.turnId, 'content-flagged'),
      type: 'conversation.content-flagged.v1',
      data: { direction: 'outbound', messageId: null, turnId: subject.turnId, action, categories, matches },
    };
  }
  const messageId = 'messageId' in subject ? subject.messageId : subject.agentMessageId;
  return {
    eventId: derivedId('content-flagged', messageId),
    type: 'conversation.content-flagged.v1',
    data: { direction: subject.direction, messageId, turnId: null, action, categories, matches },
  };
}

/**
 * A screened message's decision with its flag: as decided when nothing matched or nothing was decided
 * (a retry); only the flag when the message is blocked (it is not recorded); else both.
 */
export function withContentFlag(
  decided: PendingEvent[],
  verdict: ContentVerdict | null,
  subject: FlagSubject,
): PendingEvent[] {
  if (verdict === null || decided.length === 0) return decided;
  const flag = contentFlagged(subject, verdict);
  return verdict.action === 'block' ? [flag] : [...decided, flag];
}
