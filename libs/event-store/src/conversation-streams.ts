import type { EventsOfKind, PendingEvent } from '@contracts';
import { conversationStream, type ConversationState } from '@libs/conversation';
import type { AppendResult, EventStore } from './event-store';
import { StreamRunner, type Causation, type StreamRunnerOptions } from './stream-runner';

export interface ConversationRef {
  tenantId: string;
  conversationId: string;
}

export type ExecuteResult = {
  status: 'appended' | 'duplicate' | 'unchanged';
  state: ConversationState;
  result?: AppendResult<'conversation'>;
};

/** Conversations on the generic runner, addressed by conversation id as the services know them. */
export class ConversationStreams {
  private readonly runner: StreamRunner<'conversation', ConversationState>;

  constructor(store: EventStore, options: StreamRunnerOptions = {}) {
    this.runner = new StreamRunner(store, conversationStream, options);
  }

  async load(ref: ConversationRef, options: { toSequence?: number } = {}): Promise<ConversationState> {
    return (await this.runner.load(streamRef(ref), options)).state;
  }

  /** `trigger`: the consumed event that asked for the decision (see StreamRunner.execute). */
  async execute(
    ref: ConversationRef,
    causation: Causation,
    decide: (state: ConversationState) => PendingEvent[] | Promise<PendingEvent[]>,
    trigger?: EventsOfKind['conversation'],
  ): Promise<ExecuteResult> {
    const { status, state, result } = await this.runner.execute(streamRef(ref), causation, decide, trigger);
    return { status, state, result };
  }
}

export function streamRef(ref: ConversationRef): { tenantId: string; streamId: string } {
  return { tenantId: ref.tenantId, streamId: ref.conversationId };
}
