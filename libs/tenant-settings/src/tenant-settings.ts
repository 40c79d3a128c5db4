import { isDeepStrictEqual } from 'node:util';
import type {
  IntentDefinition,
  PendingEvent,
  RateLimits,
  TenantSettings,
  TenantSettingsEvent,
} from '@contracts';

/** A tenant's settings as of one version of its settings stream. */
export interface TenantSettingsState {
  settings: TenantSettings;
  /** Rate limits, set apart from the settings (`tenant.limits-set.v1`); {}: the gateway's defaults. */
  limits: RateLimits;
}

export function initialSettingsState(): TenantSettingsState {
  return { settings: {}, limits: {} };
}

/** evolve(state, event) -> state. Each update replaces the whole settings (or limits) object. */
export function evolveSettings(state: TenantSettingsState, event: TenantSettingsEvent): TenantSettingsState {
  switch (event.type) {
    case 'tenant.settings-updated.v1':
      return { ...state, settings: event.data.settings };
    case 'tenant.limits-set.v1':
      return { ...state, limits: event.data.limits };
    default: {
      const unexpected: never = event;
      throw new Error(`unhandled tenant settings event ${(unexpected as TenantSettingsEvent).type}`);
    }
  }
}

/** The tenant settings kind for the generic stream runner (@libs/event-store StreamRunner). */
export const tenantSettingsStream = {
  kind: 'tenant-settings' as const,
  initialState: initialSettingsState,
  evolve: evolveSettings,
};

export type TenantSettingsCommand =
  | { type: 'replace-settings'; eventId: string; settings: TenantSettings }
  /** The intent list (with its examples) only: the other settings stay as they are. */
  | { type: 'replace-intents'; eventId: string; intents: IntentDefinition[] }
  /** The rate limits as a whole: what is absent falls back to the gateway's defaults. */
  | { type: 'replace-limits'; eventId: string; limits: RateLimits };

/**
 * decide(command, state) -> events. Replacing the settings with what they already are changes nothing,
 * so re-running a configuration command is safe and does not create a new version.
 */
export function decideSettings(
  command: TenantSettingsCommand,
  state: TenantSettingsState,
): PendingEvent<'tenant-settings'>[] {
  switch (command.type) {
    case 'replace-settings':
      return settingsBecome(state, command.eventId, command.settings);
    case 'replace-intents':
      return settingsBecome(state, command.eventId, { ...state.settings, intents: command.intents });
    case 'replace-limits':
      if (isDeepStrictEqual(state.limits, command.limits)) return [];
      return [{ eventId: command.eventId, type: 'tenant.limits-set.v1', data: { limits: command.limits } }];
    default: {
      const unexpected: never = command;
      throw new Error(`unhandled tenant settings command ${JSON.stringify(unexpected)}`);
    }
  }
}

function settingsBecome(
  state: TenantSettingsState,
  eventId: string,
  settings: TenantSettings,
): PendingEvent<'tenant-settings'>[] {
  if (isDeepStrictEqual(state.settings, settings)) return [];
  return [{ eventId, type: 'tenant.settings-updated.v1', data: { settings } }];
}
