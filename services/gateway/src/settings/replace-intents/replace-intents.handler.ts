import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { TenantSettingsView } from '@contracts';
import { TenantSettingsStreams } from '@libs/event-store';
import { changeSettings } from '../change-settings';
import type { ReplaceIntentsCommand } from './replace-intents.command';

/**
 * A new settings version with the tenant's intents (labels, examples, slots) replaced. Conversations
 * started afterwards run under it; open ones keep the version they started under. The inference
 * service embeds a version's examples on its first message, so no restart or reload is needed.
 */
@Injectable()
export class ReplaceIntentsHandler {
  constructor(@Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams) {}

  execute({ tenantId, intents, precondition }: ReplaceIntentsCommand): Promise<TenantSettingsView> {
    const command = { type: 'replace-intents' as const, eventId: randomUUID(), intents };
    return changeSettings(this.settings, tenantId, command, precondition);
  }
}
