import { Inject, Injectable } from '@nestjs/common';
import { AppError, type EventOfType } from '@contracts';
import { EventStore, StreamRunner } from '@libs/event-store';
import type { EraseConversationCommand } from './erase-conversation.command';
import { decideErasure, erasureEventId, erasureStream, type ErasureState } from './erasure.decider';

export interface ErasureResult {
  /** `erased`: now; `already-erased`: by an earlier request (nothing was written). */
  status: 'erased' | 'already-erased';
  erasure: EventOfType<'conversation.erased.v1'>;
}

/**
 * Appends `conversation.erased.v1`; the store shreds the conversation's data key in that append's
 * statement, so the key is gone exactly when the audited event exists. From then on every reader
 * (store reads, Kafka consumers, replays, exports) sees the customer's text as [erased].
 */
@Injectable()
export class EraseConversationHandler {
  private readonly runner: StreamRunner<'conversation', ErasureState>;

  constructor(@Inject(EventStore) store: EventStore) {
    this.runner = new StreamRunner(store, erasureStream);
  }

  async execute(command: EraseConversationCommand): Promise<ErasureResult> {
    const tenantId = command.principal.tenant.id;
    const ref = { tenantId, streamId: command.conversationId };
    const eventId = erasureEventId(tenantId, command.conversationId);
    const executed = await this.runner.execute(ref, { causationId: null, correlationId: eventId }, (state) =>
      decideErasure(command, state),
    );
    const erasure = executed.state.erasure;
    if (!erasure) throw new AppError('stream-corrupted', 'the erasure was appended but is not in the stream');
    return { status: executed.status === 'appended' ? 'erased' : 'already-erased', erasure };
  }
}
