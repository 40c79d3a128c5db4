import { Inject, Injectable } from '@nestjs/common';
import type { RateLimits, TenantSettings, TenantSettingsView } from '@contracts';
import { TenantSettingsStreams } from '@libs/event-store';
import { effectiveSettings } from '@libs/tenant-settings';

export class GetSettingsQuery {
  constructor(readonly tenantId: string) {}
}

/** The tenant's settings as they are now, with the intents conversations started now run under. */
@Injectable()
export class GetSettingsHandler {
  constructor(@Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams) {}

  async execute({ tenantId }: GetSettingsQuery): Promise<TenantSettingsView> {
    const { version, settings, limits } = await this.settings.current(tenantId);
    return settingsView(version, settings, limits);
  }
}

export function settingsView(
  version: number,
  settings: TenantSettings,
  limits: RateLimits,
): TenantSettingsView {
  return {
    version,
    settings,
    intents: effectiveSettings(settings).intents,
    intentsSource: settings.intents === undefined ? 'default' : 'tenant',
    limits,
  };
}
