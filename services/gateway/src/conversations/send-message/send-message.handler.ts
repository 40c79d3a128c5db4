import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import { DerivedIds, contextOf, decide } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
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
  ) {}

  async execute({ ref, text, idempotencyKey }: SendMessageCommand): Promise<MessageAccepted> {
    const messageId = idempotencyKey
      ? DerivedIds.clientMessage(ref.tenantId, ref.conversationId, idempotencyKey)
      : this.newId();
    const eventId = DerivedIds.messageReceived(messageId);
    const { state } = await this.streams.execute(
      ref,
      // A customer turn's events all share the message's event id as their correlation id.
      { causationId: null, correlationId: eventId },
      (current) => decide({ type: 'receive-message', eventId, messageId, text }, current),
    );
    const entry = contextOf(state).transcript.find((item) => item.id === messageId);
    if (!entry) throw new AppError('internal', 'accepted message is missing from the conversation');
    return { conversationId: ref.conversationId, messageId, sequence: entry.sequence };
  }
}
