import { AppError, TENANT_SETTINGS_STREAM, type RateLimits, type TenantSettings } from '@contracts';
import {
  decideSettings,
  tenantSettingsStream,
  type TenantSettingsCommand,
  type TenantSettingsState,
} from '@libs/tenant-settings';
import type { EventStore } from './event-store';
import { StreamRunner, type Executed } from './stream-runner';

const CACHE_LIMIT = 10_000;

/**
 * Tenants' settings streams. A version, once written, never changes, so the settings of a given version
 * are cached for good: a conversation folds the settings of the version it started under at no cost.
 */
export class TenantSettingsStreams {
  private readonly runner: StreamRunner<'tenant-settings', TenantSettingsState>;
  private readonly byVersion = new Map<string, TenantSettings>();

  constructor(private readonly store: EventStore) {
    this.runner = new StreamRunner(store, tenantSettingsStream);
  }

  /** The latest version number (0: the tenant never configured anything; the engine's defaults apply). */
  async currentVersion(tenantId: string): Promise<number> {
    return (await this.store.streamVersion(ref(tenantId))) ?? 0;
  }

  async current(
    tenantId: string,
  ): Promise<{ version: number; settings: TenantSettings; limits: RateLimits }> {
    const { state, version } = await this.runner.load(ref(tenantId));
    return { version, settings: state.settings, limits: state.limits };
  }

  /** The settings as they were at `version`; version 0 is "nothing configured". */
  async atVersion(tenantId: string, version: number): Promise<TenantSettings> {
    if (version === 0) return {};
    const key = `${tenantId}\u0000${version}`;
    const cached = this.byVersion.get(key);
    if (cached) return cached;
    const { state, version: found } = await this.runner.load(ref(tenantId), { toSequence: version });
    if (found !== version) throw new Error(`tenant ${tenantId} has no settings version ${version}`);
    if (this.byVersion.size >= CACHE_LIMIT) this.byVersion.clear();
    this.byVersion.set(key, state.settings);
    return state.settings;
  }

  replace(
    tenantId: string,
    eventId: string,
    settings: TenantSettings,
  ): Promise<Executed<'tenant-settings', TenantSettingsState>> {
    return this.execute(tenantId, { type: 'replace-settings', eventId, settings });
  }

  /**
   * Decides `command` on the current settings. With `expectedVersion`, a change made against an older
   * version is refused with `settings-version-conflict` (optimistic concurrency for read-modify-write
   * clients); a command that changes nothing succeeds whatever the version, so a retry is harmless.
   */
  execute(
    tenantId: string,
    command: TenantSettingsCommand,
    expectedVersion?: number,
  ): Promise<Executed<'tenant-settings', TenantSettingsState>> {
    const causation = { causationId: null, correlationId: command.eventId };
    return this.runner.execute(ref(tenantId), causation, (state, version) => {
      const events = decideSettings(command, state);
      if (events.length > 0 && expectedVersion !== undefined && expectedVersion !== version) {
        throw new AppError(
          'settings-version-conflict',
          `the settings are at version ${version}, not ${expectedVersion}`,
          { expectedVersion, currentVersion: version },
        );
      }
      return events;
    });
  }
}

function ref(tenantId: string) {
  return { tenantId, streamId: TENANT_SETTINGS_STREAM };
}
