import { z } from 'zod';
import {
  ConversationClosed,
  ConversationStarted,
  ConversationStartedV1,
  MessageReceived,
  ReplyChunkGenerated,
  ReplyCompletedV1,
  ReplyFailed,
  ReplyRequested,
} from './conversation.events';
import { ReplyBackendSwitched, ReplyCompleted } from './reply-generation.events';
import { AnswerCacheHit } from './answer-cache.events';
import { TenantSettingsUpdated } from './tenant-settings.events';
import { TenantLimitsSet } from './tenant-limits.events';
import { AccessDenied, RawDataRead } from './access.events';
import {
  KnowledgeDocumentDeleted,
  KnowledgeDocumentIndexed,
  KnowledgeDocumentIndexingFailed,
  KnowledgeDocumentIndexingProgressed,
  KnowledgeDocumentIngested,
  KnowledgeDocumentReplaced,
} from './knowledge.events';
import {
  KnowledgeRetrieved,
  ModelTaskCompleted,
  ModelTaskFailed,
  ModelTaskRequested,
} from './understanding.events';
import {
  ReferenceAssigned,
  IntentResolved,
  SlotFilled,
  SlotCorrected,
  SlotRejected,
  BotMessageSent,
  HandedOff,
  AgentMessageSent,
  ReturnedToBot,
  InactivityTimedOut,
  KnowledgeWaitExpired,
} from './dialogue.events';
import { ConversationErased } from './erasure.events';
import { ContentFilterListReplaced, ContentFilterWordsListed, ContentFlagged } from './content-filter.events';
import type { StreamKind } from './define-event';

export * from './conversation.events';
export * from './tenant-settings.events';
export * from './tenant-limits.events';
export * from './understanding.events';
export * from './access.events';
export * from './dialogue.events';
export * from './reply-generation.events';
export * from './answer-cache.events';
export * from './knowledge.events';
export * from './erasure.events';
export * from './content-filter.events';
export { defineEvent, STREAM_KINDS, type StreamKind } from './define-event';

/**
 * Every event type the engine has ever published, current and superseded versions alike. Add new
 * versions here; never edit or remove a published one (old streams and topics still hold it).
 */
export const EVENT_DEFINITIONS = [
  ConversationStartedV1,
  ConversationStarted,
  MessageReceived,
  ReplyRequested,
  ReplyChunkGenerated,
  ReplyCompletedV1,
  ReplyCompleted,
  ReplyFailed,
  ConversationClosed,
  ModelTaskRequested,
  ModelTaskCompleted,
  ModelTaskFailed,
  KnowledgeRetrieved,
  ReferenceAssigned,
  IntentResolved,
  SlotFilled,
  SlotCorrected,
  SlotRejected,
  BotMessageSent,
  HandedOff,
  AgentMessageSent,
  ReturnedToBot,
  InactivityTimedOut,
  KnowledgeWaitExpired,
  ReplyBackendSwitched,
  AnswerCacheHit,
  TenantSettingsUpdated,
  TenantLimitsSet,
  AccessDenied,
  RawDataRead,
  KnowledgeDocumentIngested,
  KnowledgeDocumentReplaced,
  KnowledgeDocumentIndexingProgressed,
  KnowledgeDocumentIndexed,
  KnowledgeDocumentIndexingFailed,
  KnowledgeDocumentDeleted,
  ConversationErased,
  ContentFlagged,
  ContentFilterWordsListed,
  ContentFilterListReplaced,
] as const;

/** The current version of every conversation event: what the domain handles after upcasting. */
export const ConversationEventSchema = z.discriminatedUnion('type', [
  ConversationStarted.schema,
  MessageReceived.schema,
  ReplyRequested.schema,
  ReplyChunkGenerated.schema,
  ReplyCompleted.schema,
  ReplyFailed.schema,
  ConversationClosed.schema,
  ModelTaskRequested.schema,
  ModelTaskCompleted.schema,
  ModelTaskFailed.schema,
  KnowledgeRetrieved.schema,
  ReferenceAssigned.schema,
  IntentResolved.schema,
  SlotFilled.schema,
  SlotCorrected.schema,
  SlotRejected.schema,
  BotMessageSent.schema,
  HandedOff.schema,
  AgentMessageSent.schema,
  ReturnedToBot.schema,
  InactivityTimedOut.schema,
  KnowledgeWaitExpired.schema,
  ReplyBackendSwitched.schema,
  AnswerCacheHit.schema,
  ConversationErased.schema,
  ContentFlagged.schema,
]);

export const TenantSettingsEventSchema = z.discriminatedUnion('type', [
  TenantSettingsUpdated.schema,
  TenantLimitsSet.schema,
]);

export const AccessEventSchema = z.discriminatedUnion('type', [AccessDenied.schema, RawDataRead.schema]);
export const KnowledgeDocumentEventSchema = z.discriminatedUnion('type', [
  KnowledgeDocumentIngested.schema,
  KnowledgeDocumentReplaced.schema,
  KnowledgeDocumentIndexingProgressed.schema,
  KnowledgeDocumentIndexed.schema,
  KnowledgeDocumentIndexingFailed.schema,
  KnowledgeDocumentDeleted.schema,
]);

export const ContentFilterEventSchema = z.discriminatedUnion('type', [
  ContentFilterWordsListed.schema,
  ContentFilterListReplaced.schema,
]);

/** Anything a stream or a topic may hold, superseded versions included: what readers validate. */
export const StoredEventSchema = z.discriminatedUnion(
  'type',
  EVENT_DEFINITIONS.map((definition) => definition.schema) as unknown as [
    (typeof EVENT_DEFINITIONS)[number]['schema'],
    ...(typeof EVENT_DEFINITIONS)[number]['schema'][],
  ],
);

export type ConversationEvent = z.infer<typeof ConversationEventSchema>;
export type ConversationEventType = ConversationEvent['type'];
export type TenantSettingsEvent = z.infer<typeof TenantSettingsEventSchema>;
export type AccessEvent = z.infer<typeof AccessEventSchema>;
export type KnowledgeDocumentEvent = z.infer<typeof KnowledgeDocumentEventSchema>;
export type ContentFilterEvent = z.infer<typeof ContentFilterEventSchema>;
/** Any stored version of any event. */
export type StoredEvent = z.infer<(typeof EVENT_DEFINITIONS)[number]['schema']>;
export type StoredEventType = StoredEvent['type'];
/** The current version of any event, of any stream kind. */
export type EngineEvent =
  ConversationEvent | TenantSettingsEvent | AccessEvent | KnowledgeDocumentEvent | ContentFilterEvent;
export type EngineEventType = EngineEvent['type'];

/** The current events of each stream kind. */
export interface EventsOfKind {
  conversation: ConversationEvent;
  'tenant-settings': TenantSettingsEvent;
  access: AccessEvent;
  'knowledge-document': KnowledgeDocumentEvent;
  'content-filter': ContentFilterEvent;
}

export type EventOfType<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;
export type EventData<T extends EngineEventType> = EventOfType<T>['data'];

/** An event before the store gives it its envelope (sequence, time, tenant, ...). Always a current version. */
export type PendingEvent<K extends StreamKind = 'conversation'> = PendingOf<EventsOfKind[K]>;
type PendingOf<E extends EngineEvent> = E extends EngineEvent
  ? { eventId: string; type: E['type']; data: E['data'] }
  : never;

const KIND_OF_TYPE = new Map<string, StreamKind>(
  EVENT_DEFINITIONS.map((definition) => [definition.type, definition.kind]),
);

/** The stream kind an event type belongs to, or undefined for a type this engine does not know. */
export function kindOfType(type: string): StreamKind | undefined {
  return KIND_OF_TYPE.get(type);
}
