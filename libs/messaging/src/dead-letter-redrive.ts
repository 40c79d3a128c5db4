import type { Admin, IHeaders, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { DEAD_LETTER_HEADERS, EVENT_HEADERS, REDRIVE_HEADERS, TOPICS } from '@contracts';
import { topicName } from './kafka.client';

export interface RedriveOptions {
  kafka: Kafka;
  topicPrefix: string;
  /** The consumer group whose dead letters are re-driven, before the prefix (as in `dlq-consumer-group`). */
  group: string;
  /** Only dead letters of this event type (`event-type` header). */
  type?: string;
  /** Only list what would be re-driven: nothing is published or recorded. */
  dryRun?: boolean;
  logger: Logger;
  /** Give up when the dead-letter topic cannot be read to its end within this time. */
  readTimeoutMs?: number;
}

/** One dead letter, re-driven (or, in a dry run, to be). */
export interface RedrivenLetter {
  /** Where it is in the dead-letter topic. */
  partition: number;
  offset: string;
  sourceTopic: string;
  key: string | null;
  type: string;
  eventId: string | null;
  reason: string | null;
}

interface DeadLetter {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** The type of a dead letter that never parsed far enough to have one. */
const UNKNOWN_TYPE = 'unknown';

/**
 * Re-publishes the dead letters of one consumer group to their source topics, once its bug is fixed,
 * with the original key and value and a `redrive-group` header: that group handles them again (a
 * message failing again is dead-lettered again), every other group passes over them, as it handled
 * the originals already. Handlers are idempotent, so re-driving an event handled meanwhile is harmless.
 *
 * A dead letter is re-driven at most once: the offset up to which the letters of a group and event
 * type have been re-driven is committed for a consumer group of the tool's own,
 * `dlq-redrive.<group>.<type>`, so `--type` can re-drive one type now and the others later. Between
 * the publish and that commit a crash re-drives again (at least once). Run one re-drive at a time.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedrivenLetter[]> {
  const { kafka, topicPrefix, group, logger } = options;
  const deadLetterTopic = topicName(topicPrefix, TOPICS.deadLetter);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // The end of this run: letters arriving later wait for the next one.
    const ends = new Map(
      (await admin.fetchTopicOffsets(deadLetterTopic)).map(({ partition, low, high }) => [
        partition,
        { low: Number(low), high: Number(high) },
      ]),
    );
    const letters = (
      await readUpTo(kafka, deadLetterTopic, ends, topicName(topicPrefix, `dlq-redrive-reader.${group}`), {
        timeoutMs: options.readTimeoutMs ?? 60_000,
      })
    ).filter(
      (letter) =>
        letter.headers[DEAD_LETTER_HEADERS.consumerGroup] === group &&
        (options.type === undefined || typeOf(letter) === options.type),
    );
    const watermarkGroup = (type: string) => topicName(topicPrefix, `dlq-redrive.${group}.${type}`);
    const due: DeadLetter[] = [];
    for (const type of new Set(letters.map(typeOf))) {
      const redriven = await committedOffsets(admin, watermarkGroup(type), deadLetterTopic);
      due.push(
        ...letters.filter(
          (letter) =>
            typeOf(letter) === type && Number(letter.offset) >= (redriven.get(letter.partition) ?? 0),
        ),
      );
    }
    due.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    const sendable = due.filter((letter) => {
      if (letter.headers[DEAD_LETTER_HEADERS.sourceTopic]) return true;
      logger.warn(
        { partition: letter.partition, offset: letter.offset },
        'dead letter without a source topic',
      );
      return false;
    });
    if (!options.dryRun && sendable.length > 0) {
      await republish(kafka, group, sendable);
      const partitions = [...ends].map(([partition, { high }]) => ({ partition, offset: String(high) }));
      for (const type of new Set(due.map(typeOf))) {
        await admin.setOffsets({ groupId: watermarkGroup(type), topic: deadLetterTopic, partitions });
      }
    }
    return sendable.map((letter) => ({
      partition: letter.partition,
      offset: letter.offset,
      sourceTopic: letter.headers[DEAD_LETTER_HEADERS.sourceTopic] ?? '',
      key: letter.key?.toString() ?? null,
      type: typeOf(letter),
      eventId: letter.headers[EVENT_HEADERS.eventId] ?? null,
      reason: letter.headers[DEAD_LETTER_HEADERS.reason] ?? null,
    }));
  } finally {
    await admin.disconnect();
  }
}

function typeOf(letter: DeadLetter): string {
  return letter.headers[EVENT_HEADERS.type] ?? UNKNOWN_TYPE;
}

/** Offset per partition up to which a group has committed; none for a group that never committed. */
async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = new Map<number, number>();
  for (const { partition, offset } of offsets?.partitions ?? []) {
    if (Number(offset) >= 0) committed.set(partition, Number(offset));
  }
  return committed;
}

/** Reads every partition from its start up to `ends` (exclusive), in a group that never commits. */
async function readUpTo(
  kafka: Kafka,
  topic: string,
  ends: Map<number, { low: number; high: number }>,
  groupId: string,
  { timeoutMs }: { timeoutMs: number },
): Promise<DeadLetter[]> {
  const pending = new Set(
    [...ends].filter(([, { low, high }]) => high > low).map(([partition]) => partition),
  );
  const letters: DeadLetter[] = [];
  if (pending.size === 0) return letters;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not read ${topic} to its end within ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            const end = ends.get(partition)?.high ?? 0;
            if (Number(message.offset) < end) {
              letters.push({
                partition,
                offset: message.offset,
                key: message.key,
                value: message.value,
                headers: decodeHeaders(message.headers),
              });
            }
            if (Number(message.offset) >= end - 1) pending.delete(partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

/** The original key and value, the original headers without the dead-letter ones, for `group` only. */
async function republish(kafka: Kafka, group: string, letters: DeadLetter[]): Promise<void> {
  const deadLetterHeaders = new Set<string>(Object.values(DEAD_LETTER_HEADERS));
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    // One request per letter, in dead-letter order: a conversation's letters go back in their order.
    for (const letter of letters) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(letter.headers)) {
        if (!deadLetterHeaders.has(name)) headers[name] = value;
      }
      headers[REDRIVE_HEADERS.group] = group;
      await producer.send({
        topic: letter.headers[DEAD_LETTER_HEADERS.sourceTopic] ?? '',
        acks: -1,
        messages: [{ key: letter.key, value: letter.value, headers }],
      });
    }
  } finally {
    await producer.disconnect();
  }
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) decoded[name] = Array.isArray(value) ? value.join(',') : value.toString();
  }
  return decoded;
}
