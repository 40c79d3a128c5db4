import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type IHeaders } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { createKafka, ensureTopics } from '@libs/messaging';

/**
 * Each integration suite gets its own topic prefix on the real Kafka of the local stack, so runs
 * never share topics or consumer groups. No broker means a failing test, not a skipped one.
 */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: run the tests through `npm test`, which starts the stack');
  return brokers.split(',').map((broker) => broker.trim());
}

/** Silent unless TEST_LOG_LEVEL asks for more (e.g. TEST_LOG_LEVEL=debug when a test fails). */
export function testLogger(name: string): Logger {
  return pino({ name, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export function uniquePrefix(label: string): string {
  return `it-${label.replace(/[^a-z0-9]/gi, '-').toLowerCase()}-${randomBytes(4).toString('hex')}.`;
}

export interface ReceivedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** The broker's message timestamp (epoch ms): the producer's send time, unless the topic sets LogAppendTime. */
  timestamp: number;
}

export interface TopicRecorder {
  messages: ReceivedMessage[];
  stop(): Promise<void>;
}

export interface TestKafka {
  prefix: string;
  /** The client code under test uses: the project's own settings. */
  kafka: Kafka;
  logger: Logger;
  /** Creates the engine's topics under `prefix` (or a sub-prefix of it) with the project's ensureTopics. */
  ensureTopics(prefix?: string): Promise<string[]>;
  /** Records every message of a topic from the beginning, in a group of its own. */
  record(topic: string): Promise<TopicRecorder>;
  /** Sends raw bytes, as a foreign or broken producer would. */
  produceRaw(
    topic: string,
    messages: { key?: string; value: string | null; partition?: number; headers?: Record<string, string> }[],
  ): Promise<void>;
  /** How many messages a topic holds (sum over partitions), from the broker's offsets. */
  topicSize(topic: string): Promise<number>;
  /** Deletes every topic and consumer group under the prefix. */
  drop(): Promise<void>;
}

export async function createTestKafka(label: string): Promise<TestKafka> {
  const brokers = kafkaBrokers();
  const prefix = uniquePrefix(label);
  const logger = testLogger(`kafka-${label}`);
  // Fail fast when the broker is down, instead of the project's long retry schedule.
  await assertReachable(brokers);
  const kafka = createKafka({ brokers, clientId: `test-${label}`, topicPrefix: prefix }, logger);
  const recorders = new Set<Consumer>();
  const rawProducer = kafka.producer({ allowAutoTopicCreation: false });
  let rawProducerConnected = false;
  let groupCounter = 0;

  return {
    prefix,
    kafka,
    logger,
    ensureTopics: (subPrefix = prefix) => {
      if (!subPrefix.startsWith(prefix))
        throw new Error(`${subPrefix} is not under the suite prefix ${prefix}`);
      return ensureTopics(kafka, subPrefix);
    },
    async record(topic) {
      const messages: ReceivedMessage[] = [];
      const consumer = kafka.consumer({
        groupId: `${prefix}recorder-${++groupCounter}`,
        allowAutoTopicCreation: false,
        // Short fetch waits, so that stopping the recorder does not wait out a long poll.
        maxWaitTimeInMs: 100,
      });
      recorders.add(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic: from, partition, message }) => {
          messages.push({
            topic: from,
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: decodeHeaders(message.headers),
            timestamp: Number(message.timestamp),
          });
        },
      });
      return {
        messages,
        async stop() {
          recorders.delete(consumer);
          await consumer.disconnect();
        },
      };
    },
    async produceRaw(topic, messages) {
      if (!rawProducerConnected) {
        await rawProducer.connect();
        rawProducerConnected = true;
      }
      await rawProducer.send({ topic, acks: -1, messages });
    },
    async topicSize(topic) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
      } finally {
        await admin.disconnect();
      }
    },
    async drop() {
      for (const consumer of recorders) await consumer.disconnect().catch(() => undefined);
      recorders.clear();
      if (rawProducerConnected) await rawProducer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      try {
        const groups = (await admin.listGroups()).groups
          .map((group) => group.groupId)
          .filter((id) => id.startsWith(prefix));
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      } finally {
        await admin.disconnect();
      }
      await dropTopicsUnder(prefix);
    },
  };
}

/** Deletes every topic under a suite's prefix (its teardown). */
export async function dropTopicsUnder(prefix: string): Promise<void> {
  const admin = createKafka(
    { brokers: kafkaBrokers(), clientId: 'test-teardown', topicPrefix: prefix },
    testLogger('kafka-teardown'),
  ).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined)
      decoded[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return decoded;
}

async function assertReachable(brokers: string[]): Promise<void> {
  const probe = new Kafka({
    clientId: 'test-probe',
    brokers,
    connectionTimeout: 3_000,
    retry: { retries: 1, initialRetryTime: 300 },
    logLevel: logLevel.NOTHING,
  });
  const admin = probe.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(`Kafka at ${brokers.join(',')} is not reachable: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
