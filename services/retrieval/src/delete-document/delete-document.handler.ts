import { Inject, Injectable } from '@nestjs/common';
import { KeywordIndex, VectorIndex } from '@libs/knowledge-search';
import type { DeleteDocumentCommand } from './delete-document.command';

/** A deleted document leaves both indexes: every revision's chunks. Deleting twice is harmless. */
@Injectable()
export class DeleteDocumentHandler {
  constructor(
    @Inject(KeywordIndex) private readonly keywords: KeywordIndex,
    @Inject(VectorIndex) private readonly vectors: VectorIndex,
  ) {}

  async execute({ trigger }: DeleteDocumentCommand): Promise<void> {
    await Promise.all([
      this.keywords.deleteDocument(trigger.tenantId, trigger.data.documentId),
      this.vectors.deleteDocument(trigger.tenantId, trigger.data.documentId),
    ]);
  }
}
