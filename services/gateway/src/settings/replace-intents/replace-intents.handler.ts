import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, type TenantSettingsView } from '@contracts';
import { TenantSettingsStreams } from '@libs/event-store';
import { settingsView } from '../get-settings';
import type { ReplaceIntentsCommand } from './replace-intents.command';

/**
 * A new settings version with the tenant's intents (labels, examples, slots) replaced. Conversations
 * started afterwards run under it; open ones keep the version they started under. The inference
 * service embeds a version's examples on its first message, so no restart or reload is needed.
 */
@Injectable()
export class ReplaceIntentsHandler {
  constructor(@Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams) {}

  async execute({ tenantId, intents, precondition }: ReplaceIntentsCommand): Promise<TenantSettingsView> {
    try {
      const { state, version } = await this.settings.execute(
        tenantId,
        { type: 'replace-intents', eventId: randomUUID(), intents },
        precondition?.version,
      );
      return settingsView(version, state.settings, state.limits);
    } catch (error) {
      // The same stale version is a failed precondition when the caller sent it as If-Match.
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
