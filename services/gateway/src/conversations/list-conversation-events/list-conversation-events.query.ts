import type { ConversationRef } from '../conversation-ref';

export class ListConversationEventsQuery {
  constructor(
    readonly ref: ConversationRef,
    readonly after: number,
    readonly limit: number,
  ) {}
}
