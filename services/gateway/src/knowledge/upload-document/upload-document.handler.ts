import { Inject, Injectable } from '@nestjs/common';
import type { KnowledgeDocumentView } from '@contracts';
import { EventStore, StreamRunner } from '@libs/event-store';
import {
  KnowledgeFilesRepository,
  decideUpload,
  documentView,
  knowledgeDocumentStream,
  type KnowledgeDocumentState,
} from '@libs/knowledge';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import { documentRef } from '../document-ref';
import type { UploadDocumentCommand } from './upload-document.command';

export interface DocumentUploaded {
  /** False when the same bytes under the same title were live already: nothing was recorded. */
  changed: boolean;
  document: KnowledgeDocumentView;
}

/**
 * Stores the file under its hash, then records the upload on the document's stream; retrieval indexes
 * the new revision from there. The file goes first: an upload whose append fails leaves only bytes a
 * retry reuses, never an event naming a file that is not there.
 */
@Injectable()
export class UploadDocumentHandler {
  private readonly runner: StreamRunner<'knowledge-document', KnowledgeDocumentState>;

  constructor(
    @Inject(EventStore) store: EventStore,
    @Inject(KnowledgeFilesRepository) private readonly files: KnowledgeFilesRepository,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {
    this.runner = new StreamRunner(store, knowledgeDocumentStream);
  }

  async execute(command: UploadDocumentCommand): Promise<DocumentUploaded> {
    const { tenantId, documentId, title, format, mediaType, content } = command;
    const ref = documentRef(tenantId, documentId);
    const contentHash = await this.files.put(tenantId, mediaType, content);
    const upload = { tenantId, documentId, title, format, contentHash, sizeBytes: content.length };
    const { status, state } = await this.runner.execute(
      ref,
      { causationId: null, correlationId: this.newId() },
      (current) => decideUpload(upload, current),
    );
    const document = documentView(documentId, state);
    if (!document) throw new Error(`document ${documentId} is not live after its upload`);
    return { changed: status === 'appended', document };
  }
}
