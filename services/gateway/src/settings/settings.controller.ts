import { Body, Controller, Get, Headers, Inject, Put, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { AppError, ReplaceIntentsBodySchema, type TenantSettingsView } from '@contracts';
import type { Tenant } from '@libs/event-store';
import { ApiKeyGuard, CurrentTenant, Roles } from '../auth';
import { parseInput } from '../http/parse-input';
import { GetSettingsHandler, GetSettingsQuery } from './get-settings';
import { ReplaceIntentsCommand, ReplaceIntentsHandler } from './replace-intents';
import { ReplaceIntentsHeaders, etagOf, versionOfEtag } from './settings.schemas';

/**
 * The tenant's own configuration, for its administrators only: every change is a new version of the
 * tenant's settings stream, made against the version the caller read (If-Match or expectedVersion).
 */
@Controller('v1/settings')
@UseGuards(ApiKeyGuard)
@Roles('admin')
export class SettingsController {
  constructor(
    @Inject(GetSettingsHandler) private readonly getSettings: GetSettingsHandler,
    @Inject(ReplaceIntentsHandler) private readonly replaceIntents: ReplaceIntentsHandler,
  ) {}

  @Get()
  async get(
    @CurrentTenant() tenant: Tenant,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TenantSettingsView> {
    const view = await this.getSettings.execute(new GetSettingsQuery(tenant.id));
    res.setHeader('ETag', etagOf(view.version));
    return view;
  }

  @Put('intents')
  async putIntents(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers() headers: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TenantSettingsView> {
    const input = parseInput(ReplaceIntentsBodySchema, body);
    const ifMatch = parseInput(ReplaceIntentsHeaders, headers)['if-match'];
    const fromHeader = ifMatch === undefined ? undefined : versionOfEtag(ifMatch);
    if (
      fromHeader !== undefined &&
      input.expectedVersion !== undefined &&
      fromHeader !== input.expectedVersion
    ) {
      throw new AppError('validation-failed', 'If-Match and expectedVersion name different versions');
    }
    const precondition =
      fromHeader !== undefined
        ? { version: fromHeader, via: 'if-match' as const }
        : input.expectedVersion !== undefined
          ? { version: input.expectedVersion, via: 'body' as const }
          : null;
    const view = await this.replaceIntents.execute(
      new ReplaceIntentsCommand(tenant.id, input.intents, precondition),
    );
    res.setHeader('ETag', etagOf(view.version));
    return view;
  }
}
