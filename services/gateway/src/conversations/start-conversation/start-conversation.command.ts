import type { z } from 'zod';
import type { StartConversationBody } from '../conversations.schemas';

export class StartConversationCommand {
  constructor(
    readonly tenantId: string,
    readonly input: z.output<typeof StartConversationBody>,
    /** A conversation id the caller chose (the OpenAI facade's X-Conversation-Id); otherwise a fresh one. */
    readonly conversationId?: string,
  ) {}
}
