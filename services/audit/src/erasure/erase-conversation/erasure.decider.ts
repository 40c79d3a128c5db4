import { AppError, type ConversationEvent, type EventOfType, type PendingEvent } from '@contracts';
import { derivedId } from '@libs/conversation';
import type { StreamDefinition } from '@libs/event-store';
import type { EraseConversationCommand } from './erase-conversation.command';

/** All an erasure needs to know of a conversation: that it exists, and whether it was erased already. */
export interface ErasureState {
  started: boolean;
  erasure: EventOfType<'conversation.erased.v1'> | null;
}

/**
 * The conversation stream seen by erasure. Not the conversation machine: a closed conversation's
 * machine is final and ignores later events, and an erasure must still be recorded (once) there.
 */
export const erasureStream: StreamDefinition<'conversation', ErasureState> = {
  kind: 'conversation',
  initialState: () => ({ started: false, erasure: null }),
  evolve: (state, event: ConversationEvent) => {
    if (event.type === 'conversation.started.v2') return { ...state, started: true };
    if (event.type === 'conversation.erased.v1') return { ...state, erasure: state.erasure ?? event };
    return state;
  },
};

/** One erasure per conversation, ever: its id derives from the conversation, so a retry is a duplicate. */
export function erasureEventId(tenantId: string, conversationId: string): string {
  return derivedId('conversation-erased', tenantId, conversationId);
}

/** Pure: nothing for a conversation erased before; 404 for one that does not exist (or is another tenant's). */
export function decideErasure(
  command: EraseConversationCommand,
  state: ErasureState,
): PendingEvent<'conversation'>[] {
  if (!state.started) throw new AppError('conversation-not-found');
  if (state.erasure) return [];
  return [
    {
      eventId: erasureEventId(command.principal.tenant.id, command.conversationId),
      type: 'conversation.erased.v1',
      data: {
        keyId: command.principal.keyId,
        role: command.principal.role,
        reason: command.reason,
        reference: command.reference,
      },
    },
  ];
}
