import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EVENT_DEFINITIONS, type ConversationEvent } from '@contracts';
import { ConversationListeners } from '../conversations';
import { ConversationUpdates } from './conversation-updates';

/**
 * Kafka entry point of the gateway: every conversation event fans out to its WebSocket subscribers and
 * to the OpenAI facade's calls waiting for a reply.
 */
@Controller()
export class GatewayEventsController {
  constructor(
    @Inject(ConversationUpdates) private readonly updates: ConversationUpdates,
    @Inject(ConversationListeners) private readonly listeners: ConversationListeners,
  ) {}

  @EventPattern(EVENT_DEFINITIONS.map((definition) => definition.type))
  async onEvent(@Payload() event: ConversationEvent): Promise<void> {
    this.listeners.dispatch(event);
    await this.updates.dispatch(event);
  }
}
