import type { EventOfType } from '@contracts';

/** Find the knowledge a customer message needs and record it as an event of the turn. */
export class RetrieveKnowledgeCommand {
  constructor(readonly message: EventOfType<'conversation.message-received.v1'>) {}
}
