import type { ConversationRef } from '../conversation-ref';

export class SendAgentMessageCommand {
  constructor(
    readonly ref: ConversationRef,
    readonly agentId: string,
    readonly text: string,
    readonly idempotencyKey: string | null,
  ) {}
}

export class ReturnToBotCommand {
  constructor(
    readonly ref: ConversationRef,
    readonly agentId: string,
  ) {}
}
