import { Inject, Injectable } from '@nestjs/common';
import type { KnowledgeDocumentView } from '@contracts';
import { EventStore, StreamRunner } from '@libs/event-store';
import { documentView, knowledgeDocumentStream, type KnowledgeDocumentState } from '@libs/knowledge';
import { documentNotFound, documentRef } from '../document-ref';
import type { GetDocumentQuery } from './get-document.query';

/** A document and its indexing progress: its stream, folded. Deleted or unknown: 404. */
@Injectable()
export class GetDocumentHandler {
  private readonly runner: StreamRunner<'knowledge-document', KnowledgeDocumentState>;

  constructor(@Inject(EventStore) store: EventStore) {
    this.runner = new StreamRunner(store, knowledgeDocumentStream);
  }

  async execute({ tenantId, documentId }: GetDocumentQuery): Promise<KnowledgeDocumentView> {
    const { state } = await this.runner.load(documentRef(tenantId, documentId));
    const view = documentView(documentId, state);
    if (!view) throw documentNotFound(documentId);
    return view;
  }
}
