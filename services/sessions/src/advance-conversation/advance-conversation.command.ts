import type { ConversationEvent } from '@contracts';

/** Re-examine a conversation after `trigger` and take the bot's next steps, if any. */
export class AdvanceConversationCommand {
  constructor(readonly trigger: ConversationEvent) {}
}
