import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { EventOfType } from '@contracts';
import { GenerateReplyCommand, GenerateReplyHandler } from './generate-reply';

@Controller()
export class InferenceEventsController {
  constructor(@Inject(GenerateReplyHandler) private readonly generateReply: GenerateReplyHandler) {}

  @EventPattern('conversation.reply-requested.v1')
  async onReplyRequested(@Payload() event: EventOfType<'conversation.reply-requested.v1'>): Promise<void> {
    await this.generateReply.execute(new GenerateReplyCommand(event));
  }
}
