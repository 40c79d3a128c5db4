import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EVENT_DEFINITIONS, type ConversationEvent } from '@contracts';
import { RecordEventHandler } from './record-event';

@Controller()
export class AuditEventsController {
  constructor(@Inject(RecordEventHandler) private readonly record: RecordEventHandler) {}

  @EventPattern(EVENT_DEFINITIONS.map((definition) => definition.type))
  async onEvent(@Payload() event: ConversationEvent): Promise<void> {
    await this.record.execute(event);
  }
}
