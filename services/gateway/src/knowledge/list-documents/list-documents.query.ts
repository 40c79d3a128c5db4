export class ListDocumentsQuery {
  constructor(
    readonly tenantId: string,
    /** Documents after this id, in id order. */
    readonly after: string | null,
    readonly limit: number,
  ) {}
}
