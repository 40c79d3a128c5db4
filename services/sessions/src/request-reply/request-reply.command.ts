import type { ConversationEvent } from '@contracts';

/** Re-examine a conversation after `trigger` and ask for a reply if customer messages wait. */
export class RequestReplyCommand {
  constructor(readonly trigger: ConversationEvent) {}
}
