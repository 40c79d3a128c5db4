import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { EventOfType } from '@contracts';
import { GenerateReplyCommand, GenerateReplyHandler } from './generate-reply';
import { RunModelTaskCommand, RunModelTaskHandler } from './run-model-task';

@Controller()
export class InferenceEventsController {
  constructor(
    @Inject(GenerateReplyHandler) private readonly generateReply: GenerateReplyHandler,
    @Inject(RunModelTaskHandler) private readonly runModelTask: RunModelTaskHandler,
  ) {}

  @EventPattern('conversation.reply-requested.v1')
  async onReplyRequested(@Payload() event: EventOfType<'conversation.reply-requested.v1'>): Promise<void> {
    await this.generateReply.execute(new GenerateReplyCommand(event));
  }

  @EventPattern('conversation.model-task-requested.v1')
  async onModelTaskRequested(
    @Payload() event: EventOfType<'conversation.model-task-requested.v1'>,
  ): Promise<void> {
    await this.runModelTask.execute(new RunModelTaskCommand(event));
  }
}
