import { Injectable } from '@nestjs/common';
import type { ConversationEvent } from '@contracts';
import { conversationKey } from '../conversation-ref';

export type ConversationListener = (event: ConversationEvent) => void;

/**
 * In-process listeners on conversations, fed with every event of theirs this replica consumes from Kafka
 * (every replica reads every event, and takes those of the conversations watched here). The facade waits
 * on them for its turn's reply; they are only wake-up calls: the facade reads the events themselves from
 * the store when one is missing.
 */
@Injectable()
export class ConversationListeners {
  private readonly listeners = new Map<string, Set<ConversationListener>>();

  /** Starts listening; call the returned function to stop. */
  listen(tenantId: string, conversationId: string, listener: ConversationListener): () => void {
    const key = conversationKey(tenantId, conversationId);
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
    return this.listeners.has(conversationKey(tenantId, conversationId));
  }

  dispatch(event: ConversationEvent): void {
    const set = this.listeners.get(conversationKey(event.tenantId, event.conversationId));
    if (!set) return;
    for (const listener of [...set]) listener(event);
  }
}
