import { randomUUID } from 'node:crypto';
import type { ConversationEvent, PendingEvent } from '@contracts';
import type { AppendTarget } from '@libs/event-store';

/** Builders for pending events and append targets, so tests state only what they vary. */
export function started(eventId: string = randomUUID()): PendingEvent {
  return {
    eventId,
    type: 'conversation.started.v2',
    data: { channel: 'web', locale: 'en-GB', labels: { queue: 'billing' }, configVersion: 0 },
  };
}

export function messageReceived(
  text: string,
  eventId: string = randomUUID(),
  messageId = randomUUID(),
): PendingEvent {
  return { eventId, type: 'conversation.message-received.v1', data: { messageId, text } };
}

export function closed(eventId: string = randomUUID()): PendingEvent {
  return { eventId, type: 'conversation.closed.v1', data: { reason: 'resolved' } };
}

export function target(
  tenantId: string,
  conversationId: string,
  expectedVersion: AppendTarget['expectedVersion'],
): AppendTarget<'conversation'> {
  return {
    tenantId,
    streamId: conversationId,
    kind: 'conversation',
    expectedVersion,
    causationId: null,
    correlationId: randomUUID(),
  };
}

/** A complete envelope, as the event store would have built it, for tests that publish directly. */
export function envelopeOf(
  pending: PendingEvent,
  conversationId: string,
  sequence: number,
  tenantId = 'acme',
): ConversationEvent {
  return {
    ...pending,
    tenantId,
    conversationId,
    sequence,
    occurredAt: new Date().toISOString(),
    causationId: null,
    correlationId: randomUUID(),
  };
}
