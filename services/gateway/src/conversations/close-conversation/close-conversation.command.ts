import type { EventData } from '@contracts';
import type { ConversationRef } from '../conversation-ref';

export class CloseConversationCommand {
  constructor(
    readonly ref: ConversationRef,
    readonly reason: EventData<'conversation.closed.v1'>['reason'],
  ) {}
}
