import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConversationEvent } from '@contracts';
import { AdvanceConversationCommand, AdvanceConversationHandler } from './advance-conversation';

/**
 * Kafka entry point: every fact from outside sessions that can move a conversation on (a customer
 * message, a model's answer, retrieval's results, a timer, a reply, the agent handing back).
 */
@Controller()
export class SessionsEventsController {
  constructor(@Inject(AdvanceConversationHandler) private readonly advance: AdvanceConversationHandler) {}

  @EventPattern([
    'conversation.started.v2',
    'conversation.message-received.v1',
    'conversation.model-task-completed.v1',
    'conversation.model-task-failed.v1',
    'conversation.knowledge-retrieved.v1',
    'conversation.knowledge-wait-expired.v1',
    'conversation.reply-completed.v2',
    'conversation.reply-failed.v1',
    'conversation.returned-to-bot.v1',
  ])
  async onConversationEvent(@Payload() event: ConversationEvent): Promise<void> {
    await this.advance.execute(new AdvanceConversationCommand(event));
  }
}
