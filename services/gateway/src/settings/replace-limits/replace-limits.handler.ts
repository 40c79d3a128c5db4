import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type TenantSettingsView } from '@contracts';
import { TenantSettingsStreams } from '@libs/event-store';
import { settingsView } from '../get-settings';
import type { ReplaceLimitsCommand } from './replace-limits.command';

/**
 * A new settings version with the tenant's rate limits replaced (`tenant.limits-set.v1`). Gateway
 * replicas apply them within RATE_LIMITS_CACHE_TTL_MS (the one that took the change, at once).
 */
@Injectable()
export class ReplaceLimitsHandler {
  constructor(@Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams) {}

  async execute({ tenantId, limits, precondition }: ReplaceLimitsCommand): Promise<TenantSettingsView> {
    try {
      const { state, version } = await this.settings.execute(
        tenantId,
        { type: 'replace-limits', eventId: randomUUID(), limits },
        precondition?.version,
      );
      return settingsView(version, state.settings, state.limits);
    } catch (error) {
      if (
        error instanceof AppError &&
        error.code === 'settings-version-conflict' &&
        precondition?.via === 'if-match'
      ) {
        throw new AppError('precondition-failed', error.message, error.details);
      }
      throw error;
    }
  }
}
