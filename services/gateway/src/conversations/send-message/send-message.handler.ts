import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import { DerivedIds, contextOf, decide, withContentFlag } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import { ContentScreen, refuseIfBlocked } from '../content-screen';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import type { SendMessageCommand } from './send-message.command';

export interface MessageAccepted {
  conversationId: string;
  messageId: string;
  sequence: number;
}

@Injectable()
export class SendMessageHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(ContentScreen) private readonly screen: ContentScreen,
  ) {}

  /**
   * Records the message, screened by the tenant's word list: `mask` records it masked with a flag,
   * `handoff` records it masked with a flag that hands the conversation to a human, and `block`
   * records only the flag and answers 422 `content-blocked` (the categories in the problem, never
   * the words). Flags derive their id from the message, so a retried POST records nothing twice.
   */
  async execute({ ref, text, idempotencyKey }: SendMessageCommand): Promise<MessageAccepted> {
    const messageId = idempotencyKey
      ? DerivedIds.clientMessage(ref.tenantId, ref.conversationId, idempotencyKey)
      : this.newId();
    const eventId = DerivedIds.messageReceived(messageId);
    const { text: screened, verdict } = await this.screen.screen(ref.tenantId, text);
    const { state } = await this.streams.execute(
      ref,
      // A customer turn's events all share the message's event id as their correlation id.
      { causationId: null, correlationId: eventId },
      (current) =>
        withContentFlag(
          decide({ type: 'receive-message', eventId, messageId, text: screened }, current),
          verdict,
          { direction: 'inbound', messageId },
        ),
    );
    refuseIfBlocked(verdict);
    const entry = contextOf(state).transcript.find((item) => item.id === messageId);
    if (!entry) throw new AppError('internal', 'accepted message is missing from the conversation');
    return { conversationId: ref.conversationId, messageId, sequence: entry.sequence };
  }
}
