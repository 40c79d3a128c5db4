import { Inject, Injectable } from '@nestjs/common';
import { decide, toView, type ConversationView } from '@libs/conversation';
import { ConversationStreams, TenantSettingsStreams } from '@libs/event-store';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import { REFERENCE_GENERATOR, type ReferenceGenerator } from '../references';
import type { StartConversationCommand } from './start-conversation.command';

@Injectable()
export class StartConversationHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(REFERENCE_GENERATOR) private readonly newReference: ReferenceGenerator,
  ) {}

  async execute({
    tenantId,
    input,
    conversationId: chosen,
  }: StartConversationCommand): Promise<ConversationView> {
    const conversationId = chosen ?? this.newId();
    const eventId = this.newId();
    // The conversation runs under the tenant's settings as they are now, for its whole life.
    const configVersion = await this.settings.currentVersion(tenantId);
    const reference = this.newReference(tenantId);
    const { state } = await this.streams.execute(
      { tenantId, conversationId },
      { causationId: null, correlationId: eventId },
      (current) =>
        decide(
          { type: 'start-conversation', eventId, data: { ...input, configVersion }, reference },
          current,
        ),
    );
    return toView(state);
  }
}
