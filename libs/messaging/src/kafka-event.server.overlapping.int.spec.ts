import { randomUUID } from 'node:crypto';
import type { MessageHandler } from '@nestjs/microservices';
import { TOPICS, type EventOfType } from '@contracts';
import { KafkaEventServer, KafkaPublisher, topicName } from '@libs/messaging';
import { createTestKafka, envelopeOf, messageReceived, waitFor, type TestKafka } from '@test/support';

jest.setTimeout(90_000);

type MessageEvent = EventOfType<'conversation.message-received.v1'>;

let kafka: TestKafka;

beforeAll(async () => {
  kafka = await createTestKafka('overlapping');
});

afterAll(async () => {
  await kafka?.drop();
});

describe('KafkaEventServer with overlapping handlers (maxInFlight), on a real Kafka', () => {
  it('handles a message while an unrelated one ahead of it in the partition is still running, and commits only past finished ones', async () => {
    const prefix = `${kafka.prefix}a.`;
    await kafka.ensureTopics(prefix);
    const topic = `${prefix}${TOPICS.conversationEvents}`;
    const publisher = new KafkaPublisher(kafka.kafka, prefix);
    await publisher.connect();
    const slow = envelopeOf(messageReceived('a long reply'), randomUUID(), 2) as MessageEvent;
    const quick = envelopeOf(messageReceived('a quick one'), randomUUID(), 2) as MessageEvent;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const finished: string[] = [];
    const server = new KafkaEventServer({
      kafka: kafka.kafka,
      publisher,
      topicPrefix: prefix,
      groupId: 'svc',
      logger: kafka.logger,
      maxInFlight: 8,
    });
    server.addHandler(
      'conversation.message-received.v1',
      (async (event: MessageEvent) => {
        if (event.eventId === slow.eventId) await released;
        finished.push(event.eventId);
      }) as MessageHandler,
      true,
    );
    await new Promise<void>((resolve, reject) => {
      void server.listen((error?: unknown) => (error ? reject(new Error(JSON.stringify(error))) : resolve()));
    });
    const admin = kafka.kafka.admin();
    await admin.connect();
    const committed = async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: topicName(prefix, 'svc'), topics: [topic] });
      return offsets?.partitions.find((each) => each.partition === 0)?.offset;
    };
    try {
      // Two conversations on one partition, the slow one first.
      await kafka.produceRaw(topic, [
        { key: slow.conversationId, value: JSON.stringify(slow), partition: 0 },
        { key: quick.conversationId, value: JSON.stringify(quick), partition: 0 },
      ]);

      await waitFor('the second conversation to be handled', () => finished.includes(quick.eventId));
      expect(finished).toEqual([quick.eventId]);
      expect(await committed()).toBe('-1'); // nothing: the first message is unfinished

      release();
      await waitFor('the first conversation to finish', () => finished.includes(slow.eventId));
      await waitFor('the offset to move past both', async () => (await committed()) === '2');
    } finally {
      release();
      await admin.disconnect();
      await server.close();
      await publisher.disconnect();
    }
  });

  it('with orderByKey, handles one conversation’s messages in order while another conversation overlaps them', async () => {
    const prefix = `${kafka.prefix}b.`;
    await kafka.ensureTopics(prefix);
    const topic = `${prefix}${TOPICS.conversationEvents}`;
    const publisher = new KafkaPublisher(kafka.kafka, prefix);
    await publisher.connect();
    const conversation = randomUUID();
    const first = envelopeOf(messageReceived('first, slow'), conversation, 2) as MessageEvent;
    const second = envelopeOf(messageReceived('second, same conversation'), conversation, 3) as MessageEvent;
    const other = envelopeOf(messageReceived('another conversation'), randomUUID(), 2) as MessageEvent;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const finished: string[] = [];
    const server = new KafkaEventServer({
      kafka: kafka.kafka,
      publisher,
      topicPrefix: prefix,
      groupId: 'svc',
      logger: kafka.logger,
      maxInFlight: 8,
      orderByKey: true,
    });
    server.addHandler(
      'conversation.message-received.v1',
      (async (event: MessageEvent) => {
        started.push(event.eventId);
        if (event.eventId === first.eventId) await released;
        finished.push(event.eventId);
      }) as MessageHandler,
      true,
    );
    await new Promise<void>((resolve, reject) => {
      void server.listen((error?: unknown) => (error ? reject(new Error(JSON.stringify(error))) : resolve()));
    });
    try {
      await kafka.produceRaw(topic, [
        { key: first.conversationId, value: JSON.stringify(first), partition: 0 },
        { key: second.conversationId, value: JSON.stringify(second), partition: 0 },
        { key: other.conversationId, value: JSON.stringify(other), partition: 0 },
      ]);

      await waitFor('the other conversation to be handled', () => finished.includes(other.eventId));
      expect(started).not.toContain(second.eventId); // waits for the first of its conversation

      release();
      await waitFor('the conversation to finish', () => finished.includes(second.eventId));
      expect(finished).toEqual([other.eventId, first.eventId, second.eventId]);
    } finally {
      release();
      await server.close();
      await publisher.disconnect();
    }
  });
});
