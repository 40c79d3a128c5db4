import { Body, Controller, Get, Inject, Put, UseGuards } from '@nestjs/common';
import { ReplaceContentFilterBodySchema, type ContentFilterView } from '@contracts';
import type { Tenant } from '@libs/event-store';
import { ApiKeyGuard, CurrentTenant, Roles } from '../auth';
import { parseInput } from '../http/parse-input';
import { GetContentFilterHandler, GetContentFilterQuery } from './get-content-filter';
import { ReplaceContentFilterCommand, ReplaceContentFilterHandler } from './replace-content-filter';

/** The tenant's sensitive-word list, for its administrators: replaced whole, read back as counts. */
@Controller('v1/settings/content-filter')
@UseGuards(ApiKeyGuard)
@Roles('admin')
export class ContentFilterController {
  constructor(
    @Inject(GetContentFilterHandler) private readonly getList: GetContentFilterHandler,
    @Inject(ReplaceContentFilterHandler) private readonly replaceList: ReplaceContentFilterHandler,
  ) {}

  @Get()
  get(@CurrentTenant() tenant: Tenant): Promise<ContentFilterView> {
    return this.getList.execute(new GetContentFilterQuery(tenant.id));
  }

  @Put()
  put(@CurrentTenant() tenant: Tenant, @Body() body: unknown): Promise<ContentFilterView> {
    const list = parseInput(ReplaceContentFilterBodySchema, body);
    return this.replaceList.execute(new ReplaceContentFilterCommand(tenant.id, list));
  }
}
