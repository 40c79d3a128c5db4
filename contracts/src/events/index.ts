import { z } from 'zod';
import {
  ConversationClosed,
  ConversationStarted,
  MessageReceived,
  ReplyChunkGenerated,
  ReplyCompleted,
  ReplyFailed,
  ReplyRequested,
} from './conversation.events';

export * from './conversation.events';
export { defineEvent } from './define-event';

/** Every event type this engine publishes. Add new versions here; never edit a published one. */
export const EVENT_DEFINITIONS = [
  ConversationStarted,
  MessageReceived,
  ReplyRequested,
  ReplyChunkGenerated,
  ReplyCompleted,
  ReplyFailed,
  ConversationClosed,
] as const;

export const ConversationEventSchema = z.discriminatedUnion('type', [
  ConversationStarted.schema,
  MessageReceived.schema,
  ReplyRequested.schema,
  ReplyChunkGenerated.schema,
  ReplyCompleted.schema,
  ReplyFailed.schema,
  ConversationClosed.schema,
]);

export type ConversationEvent = z.infer<typeof ConversationEventSchema>;
export type ConversationEventType = ConversationEvent['type'];
export type EventOfType<T extends ConversationEventType> = Extract<ConversationEvent, { type: T }>;
export type EventData<T extends ConversationEventType> = EventOfType<T>['data'];

/** An event before the store gives it its envelope (sequence, time, tenant, ...). */
export type PendingEvent = {
  [T in ConversationEventType]: { eventId: string; type: T; data: EventData<T> };
}[ConversationEventType];
