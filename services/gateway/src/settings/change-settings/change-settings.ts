import { AppError, type TenantSettingsView } from '@contracts';
import type { TenantSettingsStreams } from '@libs/event-store';
import type { TenantSettingsCommand } from '@libs/tenant-settings';
import { settingsView } from '../get-settings';

/** The version a change was made against, and how the caller named it (for 409 or 412). */
export type SettingsPrecondition = { version: number; via: 'if-match' | 'body' } | null;

/**
 * One change to a tenant's settings as a new version, made against the version the caller read: a
 * stale version is 409 when sent in the body and 412 when sent as If-Match.
 */
export async function changeSettings(
  settings: TenantSettingsStreams,
  tenantId: string,
  command: TenantSettingsCommand,
  precondition: SettingsPrecondition,
): Promise<TenantSettingsView> {
  try {
    const { state, version } = await settings.execute(tenantId, command, precondition?.version);
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
