import type { EngineEvent, StoredEvent } from './events';

/**
 * Brings a stored event of any published version to the current version of its type. Applied where
 * stored rows or topic messages become envelopes (event store reads, Kafka consumers), so the domain
 * only ever sees current versions while old streams stay exactly as they were written. Pure: the
 * same input always gives the same output, so replays stay deterministic.
 */
export function upcast(event: StoredEvent): EngineEvent {
  switch (event.type) {
    case 'conversation.started.v1':
      // Conversations started before tenant settings existed ran under the engine's defaults.
      return { ...event, type: 'conversation.started.v2', data: { ...event.data, configVersion: 0 } };
    case 'conversation.reply-completed.v1':
      // Before fallback backends there was one backend, the primary, and it wrote the whole reply.
      return {
        ...event,
        type: 'conversation.reply-completed.v2',
        data: {
          ...event.data,
          parts: [{ backend: 'primary', model: event.data.model, start: 0, end: event.data.text.length }],
        },
      };
    case 'conversation.started.v2':
    case 'conversation.message-received.v1':
    case 'conversation.reply-requested.v1':
    case 'conversation.reply-chunk-generated.v1':
    case 'conversation.reply-completed.v2':
    case 'conversation.reply-failed.v1':
    case 'conversation.closed.v1':
    case 'conversation.model-task-requested.v1':
    case 'conversation.model-task-completed.v1':
    case 'conversation.model-task-failed.v1':
    case 'conversation.knowledge-retrieved.v1':
    case 'conversation.reference-assigned.v1':
    case 'conversation.intent-resolved.v1':
    case 'conversation.slot-filled.v1':
    case 'conversation.slot-corrected.v1':
    case 'conversation.slot-rejected.v1':
    case 'conversation.bot-message-sent.v1':
    case 'conversation.handed-off.v1':
    case 'conversation.agent-message-sent.v1':
    case 'conversation.returned-to-bot.v1':
    case 'conversation.inactivity-timed-out.v1':
    case 'conversation.knowledge-wait-expired.v1':
    case 'conversation.reply-backend-switched.v1':
    case 'conversation.answer-cache-hit.v1':
    case 'tenant.settings-updated.v1':
    case 'tenant.limits-set.v1':
    case 'access.denied.v1':
    case 'access.raw-data-read.v1':
    case 'knowledge.document-ingested.v1':
    case 'knowledge.document-replaced.v1':
    case 'knowledge.document-indexing-progressed.v1':
    case 'knowledge.document-indexed.v1':
    case 'knowledge.document-indexing-failed.v1':
    case 'knowledge.document-deleted.v1':
    case 'conversation.erased.v1':
    case 'conversation.content-flagged.v1':
    case 'moderation.words-listed.v1':
    case 'moderation.list-replaced.v1':
      return event;
    default: {
      // A new event type must say here whether it is current or how it becomes the current version.
      const unexpected: never = event;
      throw new Error(`no upcaster for ${(unexpected as StoredEvent).type}`);
    }
  }
}

/** The stored types that upcast renames, and the current type each becomes. */
const UPCAST_TYPES: Readonly<Record<string, string>> = {
  'conversation.started.v1': 'conversation.started.v2',
  'conversation.reply-completed.v1': 'conversation.reply-completed.v2',
};

/**
 * The current type an event of stored type `type` is read as (the type `upcast` gives it), from the
 * type alone: routers decide from a message's type header whether anyone handles it before parsing it.
 */
export function currentTypeOf(type: string): string {
  return UPCAST_TYPES[type] ?? type;
}
