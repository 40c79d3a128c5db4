import type { ConsumerRunConfig } from 'kafkajs';
import { EVENT_HEADERS, TOPICS } from '@contracts';
import type { TestKafka } from '@test/support';

/** When events reach a plain kafkajs consumer of the run's conversation topic. */
export interface Arrivals {
  /** Messages taken so far. */
  count(): number;
  /** Resolves with performance.now() when the event arrives; ask before appending it. */
  next(eventId: string): Promise<number>;
  stop(): Promise<void>;
}

/** A consumer reading the conversation topic from the beginning, doing nothing but noting arrivals. */
export async function startArrivals(
  kafka: TestKafka,
  name: string,
  run: Pick<ConsumerRunConfig, 'autoCommitThreshold'> = {},
): Promise<Arrivals> {
  const consumer = kafka.kafka.consumer({
    groupId: `${kafka.prefix}${name}`,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: 1_000,
    allowAutoTopicCreation: false,
  });
  const waiting = new Map<string, (at: number) => void>();
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: `${kafka.prefix}${TOPICS.conversationEvents}`, fromBeginning: true });
  await consumer.run({
    ...run,
    eachMessage: async ({ message }) => {
      count++;
      const eventId = message.headers?.[EVENT_HEADERS.eventId]?.toString();
      const resolve = eventId === undefined ? undefined : waiting.get(eventId);
      if (resolve) {
        waiting.delete(eventId!);
        resolve(performance.now());
      }
      await Promise.resolve();
    },
  });
  return {
    count: () => count,
    next: (eventId) => new Promise((resolve) => waiting.set(eventId, resolve)),
    stop: () => consumer.disconnect(),
  };
}
