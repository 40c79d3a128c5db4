import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { EVENT_HEADERS, messageKey, type StoredEvent } from '@contracts';
import { topicName } from './kafka.client';

export interface Publication {
  topic: string;
  event: StoredEvent;
}

/**
 * Publishes stored events, keyed by stream (conversation) so each stream stays in order. They were
 * validated once, when appended (the only way into the store and so into the outbox); consumers
 * validate what they take off a topic.
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly topicPrefix: string,
  ) {
    // Idempotent producer with one request in flight: retries neither duplicate nor reorder.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async publish(publications: Publication[]): Promise<void> {
    if (publications.length === 0) return;
    const byTopic = new Map<string, Publication[]>();
    for (const publication of publications) {
      const topic = topicName(this.topicPrefix, publication.topic);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), publication]);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic.entries()].map(([topic, items]) => ({
        topic,
        messages: items.map(({ event }) => ({
          key: messageKey(event),
          value: JSON.stringify(event),
          headers: {
            [EVENT_HEADERS.type]: event.type,
            [EVENT_HEADERS.tenantId]: event.tenantId,
            [EVENT_HEADERS.eventId]: event.eventId,
          },
        })),
      })),
    });
  }

  /** Sends raw bytes as they were received, e.g. to a dead-letter topic. */
  async sendRaw(
    topic: string,
    message: { key: Buffer | null; value: Buffer | null; headers: Record<string, string> },
  ) {
    await this.producer.send({ topic: topicName(this.topicPrefix, topic), acks: -1, messages: [message] });
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
