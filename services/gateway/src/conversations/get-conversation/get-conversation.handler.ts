import { Inject, Injectable } from '@nestjs/common';
import { toView, type ConversationView } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import type { GetConversationQuery } from './get-conversation.query';

/** The current state is the stream replayed: exactly what an analyst gets by folding the events. */
@Injectable()
export class GetConversationHandler {
  constructor(@Inject(ConversationStreams) private readonly streams: ConversationStreams) {}

  async execute({ ref }: GetConversationQuery): Promise<ConversationView> {
    return toView(await this.streams.load(ref));
  }
}
