import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { EventOfType } from '@contracts';
import { DeleteDocumentCommand, DeleteDocumentHandler } from './delete-document';
import { IndexDocumentCommand, IndexDocumentHandler } from './index-document';
import { RetrieveKnowledgeCommand, RetrieveKnowledgeHandler } from './retrieve-knowledge';

/** Kafka entry points: customer messages get their knowledge; document events move the indexes. */
@Controller()
export class RetrievalEventsController {
  constructor(
    @Inject(RetrieveKnowledgeHandler) private readonly retrieve: RetrieveKnowledgeHandler,
    @Inject(IndexDocumentHandler) private readonly index: IndexDocumentHandler,
    @Inject(DeleteDocumentHandler) private readonly remove: DeleteDocumentHandler,
  ) {}

  @EventPattern('conversation.message-received.v1')
  async onMessage(@Payload() event: EventOfType<'conversation.message-received.v1'>): Promise<void> {
    await this.retrieve.execute(new RetrieveKnowledgeCommand(event));
  }

  @EventPattern(['knowledge.document-ingested.v1', 'knowledge.document-replaced.v1'])
  async onUpload(
    @Payload() event: EventOfType<'knowledge.document-ingested.v1' | 'knowledge.document-replaced.v1'>,
  ): Promise<void> {
    await this.index.execute(new IndexDocumentCommand(event));
  }

  @EventPattern('knowledge.document-deleted.v1')
  async onDelete(@Payload() event: EventOfType<'knowledge.document-deleted.v1'>): Promise<void> {
    await this.remove.execute(new DeleteDocumentCommand(event));
  }
}
