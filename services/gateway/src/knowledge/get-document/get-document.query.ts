export class GetDocumentQuery {
  constructor(
    readonly tenantId: string,
    readonly documentId: string,
  ) {}
}
