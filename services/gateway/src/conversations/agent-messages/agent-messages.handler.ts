import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import { DerivedIds, contextOf, decide, derivedId, toView, type ConversationView } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import type { MessageAccepted } from '../send-message';
import type { ReturnToBotCommand, SendAgentMessageCommand } from './agent-messages.commands';

/** A human agent's side of a handed-off conversation: writing to the customer and handing back. */
@Injectable()
export class AgentMessagesHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async send({ ref, agentId, text, idempotencyKey }: SendAgentMessageCommand): Promise<MessageAccepted> {
    const messageId = idempotencyKey
      ? derivedId('agent-message', ref.tenantId, ref.conversationId, idempotencyKey)
      : this.newId();
    const eventId = DerivedIds.messageReceived(messageId);
    const { state } = await this.streams.execute(
      ref,
      { causationId: null, correlationId: eventId },
      (current) => decide({ type: 'send-agent-message', eventId, messageId, agentId, text }, current),
    );
    const entry = contextOf(state).transcript.find((item) => item.id === messageId);
    if (!entry) throw new AppError('internal', 'accepted agent message is missing from the conversation');
    return { conversationId: ref.conversationId, messageId, sequence: entry.sequence };
  }

  async returnToBot({ ref, agentId }: ReturnToBotCommand): Promise<ConversationView> {
    const eventId = this.newId();
    const { state } = await this.streams.execute(
      ref,
      { causationId: null, correlationId: eventId },
      (current) => decide({ type: 'return-to-bot', eventId, agentId }, current),
    );
    return toView(state);
  }
}
