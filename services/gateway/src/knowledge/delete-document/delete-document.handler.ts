import { Inject, Injectable } from '@nestjs/common';
import { EventStore, StreamRunner } from '@libs/event-store';
import { decideDelete, knowledgeDocumentStream, type KnowledgeDocumentState } from '@libs/knowledge';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import { documentNotFound, documentRef } from '../document-ref';
import type { DeleteDocumentCommand } from './delete-document.command';

/**
 * Records the delete; retrieval removes the chunks from both indexes. Deleting a deleted document
 * again changes nothing and succeeds (a retried DELETE); one that never existed is 404.
 */
@Injectable()
export class DeleteDocumentHandler {
  private readonly runner: StreamRunner<'knowledge-document', KnowledgeDocumentState>;

  constructor(
    @Inject(EventStore) store: EventStore,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {
    this.runner = new StreamRunner(store, knowledgeDocumentStream);
  }

  async execute({ tenantId, documentId }: DeleteDocumentCommand): Promise<void> {
    const ref = documentRef(tenantId, documentId);
    const { state } = await this.runner.execute(
      ref,
      { causationId: null, correlationId: this.newId() },
      (current) => decideDelete({ tenantId, documentId }, current),
    );
    if (state.status === 'absent') throw documentNotFound(documentId);
  }
}
