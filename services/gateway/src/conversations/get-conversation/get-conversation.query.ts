import type { ConversationRef } from '../conversation-ref';

export class GetConversationQuery {
  constructor(readonly ref: ConversationRef) {}
}
