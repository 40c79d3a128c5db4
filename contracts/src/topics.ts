import { kindOfType, type StreamKind } from './events';

/**
 * Kafka topics. See contracts/README.md for keys, partitions and retention.
 * A deployment may prefix every name (KAFKA_TOPIC_PREFIX) to share one cluster between environments.
 */
export const TOPICS = {
  /** Every conversation event, keyed by conversationId. */
  conversationEvents: 'conversation.events',
  /** Events of a tenant's own streams (settings), keyed by `<tenantId>/<streamId>`. */
  tenantEvents: 'tenant.events',
  /** Knowledge documents' events (uploads, indexing progress, deletes), keyed by `<tenantId>/<streamId>`. */
  knowledgeEvents: 'knowledge.events',
  /** Messages that failed validation or handling for good, with the reason in headers. */
  deadLetter: 'conversation.events.dlq',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Where each stream kind's events are published. */
export const TOPIC_OF_KIND: Record<StreamKind, TopicName> = {
  conversation: TOPICS.conversationEvents,
  'tenant-settings': TOPICS.tenantEvents,
  // A tenant's own streams share one topic: access events are few, and keyed per tenant and stream.
  access: TOPICS.tenantEvents,
  'knowledge-document': TOPICS.knowledgeEvents,
  // A tenant's word list: rare changes, one stream per tenant, beside its settings.
  'content-filter': TOPICS.tenantEvents,
};

/** The topic an event type is published to, or undefined for a type this engine does not know. */
export function topicOfType(type: string): TopicName | undefined {
  const kind = kindOfType(type);
  return kind && TOPIC_OF_KIND[kind];
}

/** The Kafka key: one stream's events share it, so they keep their order on one partition. */
export function messageKey(
  event: { tenantId: string } & ({ conversationId: string } | { streamId: string }),
) {
  return 'conversationId' in event ? event.conversationId : `${event.tenantId}/${event.streamId}`;
}

export const TOPIC_PARTITIONS: Record<TopicName, number> = {
  'conversation.events': 12,
  'tenant.events': 3,
  'knowledge.events': 6,
  'conversation.events.dlq': 1,
};

/** Kafka header names set on every published event, so routers need not parse the value. */
export const EVENT_HEADERS = {
  type: 'event-type',
  tenantId: 'tenant-id',
  eventId: 'event-id',
} as const;

/** Headers added to a dead-lettered message. */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  detail: 'dlq-detail',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  consumerGroup: 'dlq-consumer-group',
  /** How many times the handler ran on the message (0 when it never reached one). */
  attempts: 'dlq-attempts',
  /** ISO 8601 time of the first failure: with dlq-attempts, how long the message was retried. */
  firstFailedAt: 'dlq-first-failed-at',
} as const;

/**
 * Header of a message re-driven from the dead-letter topic (`npm run dlq:redrive`): only the consumer
 * group named here handles it; every other group handled the original already and passes over it.
 */
export const REDRIVE_HEADERS = {
  group: 'redrive-group',
} as const;
