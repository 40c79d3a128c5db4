import type { ReplaceContentFilterBody } from '@contracts';

export class ReplaceContentFilterCommand {
  constructor(
    readonly tenantId: string,
    readonly list: ReplaceContentFilterBody,
  ) {}
}
