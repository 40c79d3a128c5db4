import type { ConversationEvent, ConversationView } from '@contracts';
import { evolve, initialState, toView } from '@libs/conversation';
import { redactPiiDeep } from '../pii/redact-pii';

/** One step of a replay: an event as it was stored, and the conversation's state right after it. */
export interface ReplayStep {
  sequence: number;
  type: ConversationEvent['type'];
  occurredAt: string;
  data: unknown;
  state: ConversationView;
}

export interface ConversationReplay {
  conversationId: string;
  /** False only for a compliance key that asked for `raw=true` (and that read is logged). */
  redacted: boolean;
  steps: ReplayStep[];
}

/**
 * Folds a conversation's events through the same machine the services run (`@libs/conversation`),
 * keeping the state after each one: what an analyst steps through. Pure. Customer text, replies and
 * prompts are redacted unless `raw`.
 */
export function replayConversation(
  events: readonly ConversationEvent[],
  options: { raw: boolean },
): ConversationReplay {
  const first = events[0];
  if (!first) throw new Error('a replay needs at least one event');
  const hide = <T>(value: T): T => (options.raw ? value : (redactPiiDeep(value) as T));
  let state = initialState();
  const steps = events.map((event): ReplayStep => {
    state = evolve(state, event);
    return {
      sequence: event.sequence,
      type: event.type,
      occurredAt: event.occurredAt,
      data: hide(event.data),
      state: hide(toView(state)),
    };
  });
  return { conversationId: first.conversationId, redacted: !options.raw, steps };
}
