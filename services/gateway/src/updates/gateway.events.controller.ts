import { Controller, Inject, type OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EVENT_DEFINITIONS, type ConversationEvent } from '@contracts';
import { KafkaEventServer } from '@libs/messaging';
import { ConversationListeners } from '../conversations';
import { ConversationUpdates } from './conversation-updates';

/**
 * Kafka entry point of the gateway: every conversation event fans out to its WebSocket subscribers and
 * to the OpenAI facade's calls waiting for a reply. Each gateway replica reads every event (a group of
 * its own); those of conversations nobody on this replica watches are passed by unparsed. A socket that
 * subscribes later reads what it missed from the store, as it does on any subscribe.
 */
@Controller()
export class GatewayEventsController implements OnModuleInit {
  constructor(
    @Inject(ConversationUpdates) private readonly updates: ConversationUpdates,
    @Inject(ConversationListeners) private readonly listeners: ConversationListeners,
    @Inject(KafkaEventServer) private readonly server: KafkaEventServer,
  ) {}

  onModuleInit(): void {
    this.server.passByUnless(
      (tenantId, conversationId) =>
        tenantId !== undefined &&
        conversationId !== null &&
        (this.updates.watches(tenantId, conversationId) || this.listeners.has(tenantId, conversationId)),
    );
  }

  @EventPattern(EVENT_DEFINITIONS.map((definition) => definition.type))
  async onEvent(@Payload() event: ConversationEvent): Promise<void> {
    this.listeners.dispatch(event);
    await this.updates.dispatch(event);
  }
}
