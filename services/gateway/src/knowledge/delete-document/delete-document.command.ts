export class DeleteDocumentCommand {
  constructor(
    readonly tenantId: string,
    readonly documentId: string,
  ) {}
}
