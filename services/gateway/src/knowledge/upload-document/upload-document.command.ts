import type { DocumentFormat } from '@contracts';

export class UploadDocumentCommand {
  constructor(
    readonly tenantId: string,
    readonly documentId: string,
    readonly title: string,
    readonly format: DocumentFormat,
    readonly mediaType: string,
    readonly content: Buffer,
  ) {}
}
