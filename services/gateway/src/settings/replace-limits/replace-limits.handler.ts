import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { TenantSettingsView } from '@contracts';
import { TenantSettingsStreams } from '@libs/event-store';
import { changeSettings } from '../change-settings';
import type { ReplaceLimitsCommand } from './replace-limits.command';

/**
 * A new settings version with the tenant's rate limits replaced (`tenant.limits-set.v1`). Gateway
 * replicas apply them within RATE_LIMITS_CACHE_TTL_MS (the one that took the change, at once).
 */
@Injectable()
export class ReplaceLimitsHandler {
  constructor(@Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams) {}

  execute({ tenantId, limits, precondition }: ReplaceLimitsCommand): Promise<TenantSettingsView> {
    const command = { type: 'replace-limits' as const, eventId: randomUUID(), limits };
    return changeSettings(this.settings, tenantId, command, precondition);
  }
}
