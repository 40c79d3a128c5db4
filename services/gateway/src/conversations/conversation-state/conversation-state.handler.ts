import { Inject, Injectable } from '@nestjs/common';
import { AppError, type ConversationStateAt } from '@contracts';
import { toStateAt } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import type { ConversationRef } from '../conversation-ref';

export class GetConversationStateQuery {
  constructor(
    readonly ref: ConversationRef,
    /** The last event to fold in; undefined: the whole stream (the live state). */
    readonly at: number | undefined,
  ) {}
}

/** The machine's state as of any event: the stream folded up to that sequence, nothing else. */
@Injectable()
export class GetConversationStateHandler {
  constructor(@Inject(ConversationStreams) private readonly streams: ConversationStreams) {}

  async execute({ ref, at }: GetConversationStateQuery): Promise<ConversationStateAt> {
    const state = await this.streams.load(ref, at === undefined ? {} : { toSequence: at });
    if (state.version === 0) throw new AppError('conversation-not-found');
    if (at !== undefined && state.version < at) {
      throw new AppError(
        'not-found',
        `the conversation has ${state.version} events; there is no event ${at}`,
      );
    }
    return toStateAt(state);
  }
}
