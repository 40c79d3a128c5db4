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
export function contentFlagged(
  subject:
    | { direction: 'inbound'; messageId: string }
    | { direction: 'outbound'; turnId: string }
    | { direction: 'outbound'; agentMessageId: string },
  verdict: ContentVerdict,
): PendingEvent {
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
