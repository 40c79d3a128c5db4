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
    case 'conversation.started.v2':
    case 'conversation.message-received.v1':
    case 'conversation.reply-requested.v1':
    case 'conversation.reply-chunk-generated.v1':
    case 'conversation.reply-completed.v1':
    case 'conversation.reply-failed.v1':
    case 'conversation.closed.v1':
    case 'conversation.model-task-requested.v1':
    case 'conversation.model-task-completed.v1':
    case 'conversation.model-task-failed.v1':
    case 'conversation.knowledge-retrieved.v1':
    case 'tenant.settings-updated.v1':
    case 'knowledge.document-ingested.v1':
    case 'knowledge.document-replaced.v1':
    case 'knowledge.document-indexing-progressed.v1':
    case 'knowledge.document-indexed.v1':
    case 'knowledge.document-indexing-failed.v1':
    case 'knowledge.document-deleted.v1':
      return event;
    default: {
      // A new event type must say here whether it is current or how it becomes the current version.
      const unexpected: never = event;
      throw new Error(`no upcaster for ${(unexpected as StoredEvent).type}`);
    }
  }
}
