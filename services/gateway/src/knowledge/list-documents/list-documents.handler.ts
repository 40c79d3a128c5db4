import { Inject, Injectable } from '@nestjs/common';
import type { KnowledgeDocumentPage, KnowledgeDocumentView } from '@contracts';
import { EventStore, StreamRunner } from '@libs/event-store';
import {
  KnowledgeDirectoryRepository,
  documentStreamId,
  documentView,
  knowledgeDocumentStream,
  type KnowledgeDocumentState,
} from '@libs/knowledge';
import type { ListDocumentsQuery } from './list-documents.query';

/**
 * A page of the tenant's documents in id order, each its stream folded. Deleted documents are left
 * out, so a page may hold fewer than `limit`; `nextAfter` is null only once the ids run out.
 */
@Injectable()
export class ListDocumentsHandler {
  private readonly runner: StreamRunner<'knowledge-document', KnowledgeDocumentState>;

  constructor(
    @Inject(EventStore) store: EventStore,
    @Inject(KnowledgeDirectoryRepository) private readonly directory: KnowledgeDirectoryRepository,
  ) {
    this.runner = new StreamRunner(store, knowledgeDocumentStream);
  }

  async execute({ tenantId, after, limit }: ListDocumentsQuery): Promise<KnowledgeDocumentPage> {
    const ids = await this.directory.documentIds(tenantId, after, limit);
    const views = await Promise.all(
      ids.map(async (documentId) => {
        const { state } = await this.runner.load({ tenantId, streamId: documentStreamId(documentId) });
        return documentView(documentId, state);
      }),
    );
    return {
      documents: views.filter((view): view is KnowledgeDocumentView => view !== null),
      nextAfter: ids.length === limit ? (ids.at(-1) ?? null) : null,
    };
  }
}
