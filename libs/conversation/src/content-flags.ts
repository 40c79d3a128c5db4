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
 * The flagged event of a customer message or of a turn's reply. Its id derives from the message (or
 * the turn), so a retried POST or a regenerated reply records the flag once.
 */
export function contentFlagged(
  subject: { direction: 'inbound'; messageId: string } | { direction: 'outbound'; turnId: string },
  verdict: ContentVerdict,
): PendingEvent {
  const inbound = subject.direction === 'inbound';
  return {
    eventId: inbound
      ? derivedId('content-flagged', subject.messageId)
      : derivedId(subject.turnId, 'content-flagged'),
    type: 'conversation.content-flagged.v1',
    data: {
      direction: subject.direction,
      messageId: inbound ? subject.messageId : null,
      turnId: inbound ? null : subject.turnId,
      action: verdict.action,
      categories: verdict.categories,
      matches: verdict.matches,
    },
  };
}
