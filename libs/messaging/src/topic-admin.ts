import type { Kafka } from 'kafkajs';
import { TOPIC_PARTITIONS, type TopicName } from '@contracts';
import { topicName } from './kafka.client';

/** Creates the engine's topics if they are missing (the brokers do not auto-create). Idempotent. */
export async function ensureTopics(kafka: Kafka, prefix: string, replicationFactor = 1): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = (Object.keys(TOPIC_PARTITIONS) as TopicName[])
      .map((topic) => ({ topic: topicName(prefix, topic), numPartitions: TOPIC_PARTITIONS[topic] }))
      .filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          ...topic,
          replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }],
        })),
      });
    }
    return missing.map(({ topic }) => topic);
  } finally {
    await admin.disconnect();
  }
}
