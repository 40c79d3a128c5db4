import { Injectable } from '@nestjs/common';
import type { ConversationEvent } from '@contracts';

export type ConversationListener = (event: ConversationEvent) => void;

/**
 * In-process listeners on conversations, fed with every conversation event this replica consumes from
 * Kafka (every replica consumes every event). The facade waits on them for its turn's reply; they are
 * only wake-up calls: the facade reads the events themselves from the store when one is missing.
 */
@Injectable()
export class ConversationListeners {
  private readonly listeners = new Map<string, Set<ConversationListener>>();

  /** Starts listening; call the returned function to stop. */
  listen(tenantId: string, conversationId: string, listener: ConversationListener): () => void {
    const key = keyOf(tenantId, conversationId);
    const set = this.listeners.get(key) ?? new Set();
    set.add(listener);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  /** True while a call waits on the conversation (its events are wanted from Kafka). */
  has(tenantId: string, conversationId: string): boolean {
    return this.listeners.has(keyOf(tenantId, conversationId));
  }

  dispatch(event: ConversationEvent): void {
    const set = this.listeners.get(keyOf(event.tenantId, event.conversationId));
    if (!set) return;
    for (const listener of [...set]) listener(event);
  }
}

function keyOf(tenantId: string, conversationId: string): string {
  return `${tenantId}\u0000${conversationId}`;
}
