import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EVENT_DEFINITIONS, type ConversationEvent } from '@contracts';
import { ConversationUpdates } from './conversation-updates';

/** Kafka entry point of the gateway: every conversation event fans out to its WebSocket subscribers. */
@Controller()
export class GatewayEventsController {
  constructor(@Inject(ConversationUpdates) private readonly updates: ConversationUpdates) {}

  @EventPattern(EVENT_DEFINITIONS.map((definition) => definition.type))
  async onEvent(@Payload() event: ConversationEvent): Promise<void> {
    await this.updates.dispatch(event);
  }
}
