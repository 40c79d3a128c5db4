import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ConversationEvent, KnowledgeDocumentEvent } from '@contracts';
import { AnswerCacheRepository } from './answer-cache';
import { AdvanceConversationCommand, AdvanceConversationHandler } from './advance-conversation';

/**
 * Kafka entry point: every fact from outside sessions that can move a conversation on (a customer
 * message, a model's answer, retrieval's results, a timer, a reply, the agent handing back).
 */
@Controller()
export class SessionsEventsController {
  constructor(
    @Inject(AdvanceConversationHandler) private readonly advance: AdvanceConversationHandler,
    @Inject(AnswerCacheRepository) private readonly answers: AnswerCacheRepository,
  ) {}

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

  /**
   * The tenant's knowledge base changed (a document uploaded, replaced, indexed, failed or deleted):
   * answers given before may cite what is no longer so, so none is reused. Idempotent.
   */
  @EventPattern([
    'knowledge.document-ingested.v1',
    'knowledge.document-replaced.v1',
    'knowledge.document-indexed.v1',
    'knowledge.document-indexing-failed.v1',
    'knowledge.document-deleted.v1',
  ])
  async onKnowledgeChanged(@Payload() event: KnowledgeDocumentEvent): Promise<void> {
    await this.answers.invalidateTenant(event.tenantId);
  }
}
