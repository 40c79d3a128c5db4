import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConversationEvent } from '@contracts';
import { RequestReplyCommand, RequestReplyHandler } from './request-reply';

/** Kafka entry point: any event that can leave customer messages unanswered re-examines the session. */
@Controller()
export class SessionsEventsController {
  constructor(@Inject(RequestReplyHandler) private readonly requestReply: RequestReplyHandler) {}

  @EventPattern([
    'conversation.message-received.v1',
    'conversation.reply-completed.v2',
    'conversation.reply-failed.v1',
  ])
  async onTurnBoundary(@Payload() event: ConversationEvent): Promise<void> {
    await this.requestReply.execute(new RequestReplyCommand(event));
  }
}
