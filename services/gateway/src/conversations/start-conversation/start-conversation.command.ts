import type { z } from 'zod';
import type { StartConversationBody } from '../conversations.schemas';

export class StartConversationCommand {
  constructor(
    readonly tenantId: string,
    readonly input: z.output<typeof StartConversationBody>,
  ) {}
}
