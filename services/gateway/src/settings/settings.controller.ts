import { Body, Controller, Get, Headers, Inject, Put, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  AppError,
  ReplaceIntentsBodySchema,
  ReplaceLimitsBodySchema,
  type TenantSettingsView,
} from '@contracts';
import type { Tenant } from '@libs/event-store';
import { ApiKeyGuard, CurrentTenant, Roles } from '../auth';
import { parseInput } from '../http/parse-input';
import { RateLimitPolicy } from '../limits';
import type { SettingsPrecondition } from './change-settings';
import { GetSettingsHandler, GetSettingsQuery } from './get-settings';
import { ReplaceIntentsCommand, ReplaceIntentsHandler } from './replace-intents';
import { ReplaceLimitsCommand, ReplaceLimitsHandler } from './replace-limits';
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
    @Inject(ReplaceLimitsHandler) private readonly replaceLimits: ReplaceLimitsHandler,
    @Inject(RateLimitPolicy) private readonly limits: RateLimitPolicy,
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
    const view = await this.replaceIntents.execute(
      new ReplaceIntentsCommand(tenant.id, input.intents, preconditionOf(headers, input.expectedVersion)),
    );
    res.setHeader('ETag', etagOf(view.version));
    return view;
  }

  @Put('limits')
  async putLimits(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers() headers: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TenantSettingsView> {
    const { expectedVersion, ...limits } = parseInput(ReplaceLimitsBodySchema, body);
    const view = await this.replaceLimits.execute(
      new ReplaceLimitsCommand(tenant.id, limits, preconditionOf(headers, expectedVersion)),
    );
    this.limits.forget(tenant.id);
    res.setHeader('ETag', etagOf(view.version));
    return view;
  }
}

/** The version a change was made against, from If-Match or the body (both: they must agree). */
function preconditionOf(headers: unknown, expectedVersion: number | undefined): SettingsPrecondition {
  const ifMatch = parseInput(ReplaceIntentsHeaders, headers)['if-match'];
  const fromHeader = ifMatch === undefined ? undefined : versionOfEtag(ifMatch);
  if (fromHeader !== undefined && expectedVersion !== undefined && fromHeader !== expectedVersion) {
    throw new AppError('validation-failed', 'If-Match and expectedVersion name different versions');
  }
  if (fromHeader !== undefined) return { version: fromHeader, via: 'if-match' };
  if (expectedVersion !== undefined) return { version: expectedVersion, via: 'body' };
  return null;
}
