import { Inject, Injectable } from '@nestjs/common';
import { decide, toView, type ConversationView } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import type { CloseConversationCommand } from './close-conversation.command';

@Injectable()
export class CloseConversationHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
  ) {}

  async execute({ ref, reason }: CloseConversationCommand): Promise<ConversationView> {
    const eventId = this.newId();
    const { state } = await this.streams.execute(
      ref,
      { causationId: null, correlationId: eventId },
      (current) => decide({ type: 'close-conversation', eventId, reason }, current),
    );
    return toView(state);
  }
}
