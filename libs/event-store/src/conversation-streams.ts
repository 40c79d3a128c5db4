import { AppError, type PendingEvent } from '@contracts';
import { fold, type ConversationState } from '@libs/conversation';
import type { AppendResult, EventStore } from './event-store';

export interface StreamRef {
  tenantId: string;
  conversationId: string;
}

export interface Causation {
  causationId: string | null;
  correlationId: string;
}

export type ExecuteResult = {
  status: 'appended' | 'duplicate' | 'unchanged';
  state: ConversationState;
  result?: AppendResult;
};

const MAX_CONFLICT_RETRIES = 10;

/** Loads conversations by replaying their streams and runs deciders against them with retries. */
export class ConversationStreams {
  constructor(private readonly store: EventStore) {}

  async load(ref: StreamRef): Promise<ConversationState> {
    return fold(await this.store.read(ref.tenantId, ref.conversationId));
  }

  /**
   * Decide against the current state and append with that state's version; on a concurrency conflict
   * reload and decide again, so the decision always rests on what is really stored.
   */
  async execute(
    ref: StreamRef,
    causation: Causation,
    decide: (state: ConversationState) => PendingEvent[],
  ): Promise<ExecuteResult> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.load(ref);
      const pending = decide(state);
      if (pending.length === 0) return { status: 'unchanged', state };
      try {
        const result = await this.store.append(
          { ...ref, ...causation, expectedVersion: state.version },
          pending,
        );
        const next = result.status === 'appended' ? fold(result.events, state) : await this.load(ref);
        return { status: result.status, state: next, result };
      } catch (error) {
        const conflict = error instanceof AppError && error.code === 'concurrency-conflict';
        if (!conflict || attempt >= MAX_CONFLICT_RETRIES) throw error;
        // Exponential backoff with full jitter, so many writers to one conversation spread out.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(500, 5 * 2 ** attempt)));
      }
    }
  }
}
