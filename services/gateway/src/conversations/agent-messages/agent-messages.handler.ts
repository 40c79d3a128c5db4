import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import {
  DerivedIds,
  contextOf,
  decide,
  derivedId,
  toView,
  withContentFlag,
  type ConversationView,
} from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import { ContentScreen, refuseIfBlocked } from '../content-screen';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import type { MessageAccepted } from '../send-message';
import type { ReturnToBotCommand, SendAgentMessageCommand } from './agent-messages.commands';

/** A human agent's side of a handed-off conversation: writing to the customer and handing back. */
@Injectable()
export class AgentMessagesHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(ContentScreen) private readonly screen: ContentScreen,
  ) {}

  /**
   * Records the agent's message, screened by the tenant's word list as a customer's is: `mask` sends it
   * masked with an outbound flag; `block` (and `handoff`, which has no meaning for a conversation a human
   * already holds) records only the flag, as `block`, and answers 422 `content-blocked`, so the agent can
   * rephrase. A retried POST records nothing twice (the flag's id derives from the message).
   */
  async send({ ref, agentId, text, idempotencyKey }: SendAgentMessageCommand): Promise<MessageAccepted> {
    const messageId = idempotencyKey
      ? derivedId('agent-message', ref.tenantId, ref.conversationId, idempotencyKey)
      : this.newId();
    const eventId = DerivedIds.messageReceived(messageId);
    const { text: screened, verdict: found } = await this.screen.screen(ref.tenantId, text);
    const verdict = found?.action === 'handoff' ? { ...found, action: 'block' as const } : found;
    const { state } = await this.streams.execute(
      ref,
      { causationId: null, correlationId: eventId },
      (current) =>
        withContentFlag(
          decide({ type: 'send-agent-message', eventId, messageId, agentId, text: screened }, current),
          verdict,
          { direction: 'outbound', agentMessageId: messageId },
        ),
    );
    refuseIfBlocked(verdict);
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
