import { Inject, Injectable } from '@nestjs/common';
import { AppError, type ConversationEvent } from '@contracts';
import { EventStore, streamRef } from '@libs/event-store';
import type { ListConversationEventsQuery } from './list-conversation-events.query';

export interface EventPage {
  conversationId: string;
  events: ConversationEvent[];
  /** Pass as `after` to get the next page; null when this page reaches the end of the stream. */
  nextAfter: number | null;
}

@Injectable()
export class ListConversationEventsHandler {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  async execute({ ref, after, limit }: ListConversationEventsQuery): Promise<EventPage> {
    const stream = streamRef(ref);
    const version = await this.store.streamVersion(stream);
    if (version === null || version === 0) throw new AppError('conversation-not-found');
    const events = await this.store.read('conversation', stream, { afterSequence: after, limit });
    const last = events.at(-1)?.sequence ?? after;
    return { conversationId: ref.conversationId, events, nextAfter: last < version ? last : null };
  }
}
