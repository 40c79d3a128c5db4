import type { ConversationRef } from '../conversation-ref';

export class SendMessageCommand {
  constructor(
    readonly ref: ConversationRef,
    readonly text: string,
    /** From `clientMessageId` or the Idempotency-Key header; makes a retried POST a no-op. */
    readonly idempotencyKey: string | null,
  ) {}
}
