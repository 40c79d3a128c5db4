import { randomUUID } from 'node:crypto';
import type { MessageHandler } from '@nestjs/microservices';
import { TOPICS, messageKey, type EventOfType } from '@contracts';
import { sampleEvent } from '@contracts/testing';
import { KafkaEventServer, KafkaPublisher, topicName, type KafkaEventServerOptions } from '@libs/messaging';
import { createTestKafka, envelopeOf, messageReceived, waitFor, type TestKafka } from '@test/support';

jest.setTimeout(90_000);

type MessageEvent = EventOfType<'conversation.message-received.v1'>;
type IngestedEvent = EventOfType<'knowledge.document-ingested.v1'>;

/** A document's ingestion, as the store would publish it: a stream (key) of its own per document. */
function ingested(documentId: string): IngestedEvent {
  const sample = sampleEvent('knowledge.document-ingested.v1');
  return {
    ...sample,
    eventId: randomUUID(),
    streamId: `kb-document:${documentId}`,
    data: { ...sample.data, documentId },
  } as unknown as IngestedEvent;
}

/** A reply chunk: an event the test server has no handler for, so it passes it by. */
function replyChunk(): EventOfType<'conversation.reply-chunk-generated.v1'> {
  return {
    ...sampleEvent('conversation.reply-chunk-generated.v1'),
    eventId: randomUUID(),
  } as EventOfType<'conversation.reply-chunk-generated.v1'>;
}

let kafka: TestKafka;

beforeAll(async () => {
  kafka = await createTestKafka('overlapping');
});

afterAll(async () => {
  await kafka?.drop();
});

/** A server in overlapping mode on topics of its own, listening, with `handle` for customer messages. */
async function overlappingServer(
  name: string,
  handle: (event: MessageEvent) => Promise<void>,
  options: {
    orderByKey?: boolean;
    maxInFlightPerTopic?: Record<string, number>;
    passedByCommitMs?: number;
    onHandled?: KafkaEventServerOptions['onHandled'];
    /** Handles knowledge documents' ingestion events too. */
    ingest?: (event: IngestedEvent) => Promise<void>;
  } = {},
) {
  const { ingest, ...serverOptions } = options;
  const prefix = `${kafka.prefix}${name}.`;
  await kafka.ensureTopics(prefix);
  const publisher = new KafkaPublisher(kafka.kafka, prefix);
  await publisher.connect();
  const server = new KafkaEventServer({
    kafka: kafka.kafka,
    publisher,
    topicPrefix: prefix,
    groupId: 'svc',
    logger: kafka.logger,
    maxInFlight: 8,
    ...serverOptions,
  });
  server.addHandler('conversation.message-received.v1', handle as MessageHandler, true);
  if (ingest) server.addHandler('knowledge.document-ingested.v1', ingest as MessageHandler, true);
  await new Promise<void>((resolve, reject) => {
    void server.listen((error?: unknown) => (error ? reject(new Error(JSON.stringify(error))) : resolve()));
  });
  return {
    prefix,
    topic: `${prefix}${TOPICS.conversationEvents}`,
    knowledgeTopic: `${prefix}${TOPICS.knowledgeEvents}`,
    stop: async () => {
      await server.close();
      await publisher.disconnect();
    },
  };
}

describe('KafkaEventServer with overlapping handlers (maxInFlight), on a real Kafka', () => {
  it('handles a message while an unrelated one ahead of it in the partition is still running, and commits only past finished ones', async () => {
    const slow = envelopeOf(messageReceived('a long reply'), randomUUID(), 2) as MessageEvent;
    const quick = envelopeOf(messageReceived('a quick one'), randomUUID(), 2) as MessageEvent;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const finished: string[] = [];
    const { prefix, topic, stop } = await overlappingServer('a', async (event) => {
      if (event.eventId === slow.eventId) await released;
      finished.push(event.eventId);
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
      await stop();
    }
  });

  it('with orderByKey, handles one conversation’s messages in order while another conversation overlaps them', async () => {
    const conversation = randomUUID();
    const first = envelopeOf(messageReceived('first, slow'), conversation, 2) as MessageEvent;
    const second = envelopeOf(messageReceived('second, same conversation'), conversation, 3) as MessageEvent;
    const other = envelopeOf(messageReceived('another conversation'), randomUUID(), 2) as MessageEvent;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const finished: string[] = [];
    const { topic, stop } = await overlappingServer(
      'b',
      async (event) => {
        started.push(event.eventId);
        if (event.eventId === first.eventId) await released;
        finished.push(event.eventId);
      },
      { orderByKey: true },
    );
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
      await stop();
    }
  });

  it('with a topic limit, runs one slow document at a time while customer messages keep their slots', async () => {
    const documents = [ingested('returns-policy'), ingested('warranty')];
    const message = envelopeOf(messageReceived('where is my order?'), randomUUID(), 2) as MessageEvent;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const finished: string[] = [];
    const { prefix, topic, knowledgeTopic, stop } = await overlappingServer(
      'c',
      async (event) => {
        finished.push(event.eventId);
      },
      {
        orderByKey: true,
        maxInFlightPerTopic: { [TOPICS.knowledgeEvents]: 1 },
        ingest: async (event) => {
          started.push(event.eventId);
          if (event.eventId === documents[0]?.eventId) await released;
          finished.push(event.eventId);
        },
      },
    );
    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      // Two documents (two keys) on one partition: without the limit both would start at once.
      await kafka.produceRaw(
        knowledgeTopic,
        documents.map((document) => ({
          key: messageKey(document),
          value: JSON.stringify(document),
          partition: 0,
        })),
      );
      await waitFor('the first document to start', () => started.length === 1);
      await kafka.produceRaw(topic, [
        { key: message.conversationId, value: JSON.stringify(message), partition: 0 },
      ]);

      await waitFor('the customer message to be handled', () => finished.includes(message.eventId));
      expect(started).toEqual([documents[0]?.eventId]); // the second document waits for a slot of its topic

      release();
      await waitFor('both documents to finish', () => finished.includes(documents[1]?.eventId ?? ''));
      // The paused partition was fetched again from the second document: it ran once, and is committed.
      await waitFor('the offset to move past both documents', async () => {
        const [offsets] = await admin.fetchOffsets({
          groupId: topicName(prefix, 'svc'),
          topics: [knowledgeTopic],
        });
        return offsets?.partitions.find((each) => each.partition === 0)?.offset === '2';
      });
      expect(started).toEqual(documents.map((document) => document.eventId));
    } finally {
      release();
      await admin.disconnect();
      await stop();
    }
  });

  it('commits passed-by messages with the next handled one of their partition, or at close', async () => {
    const chunks = [0, 1, 2].map(() => replyChunk());
    const message = envelopeOf(messageReceived('where is my order?'), randomUUID(), 2) as MessageEvent;
    const passed: string[] = [];
    const handled: string[] = [];
    const { prefix, topic, stop } = await overlappingServer(
      'd',
      async (event) => void handled.push(event.eventId),
      {
        passedByCommitMs: 600_000, // longer than the test: only a handled message or close() commits them
        onHandled: (event, outcome) => outcome === 'ignored' && passed.push(event.eventId),
      },
    );
    const admin = kafka.kafka.admin();
    await admin.connect();
    const committed = async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: topicName(prefix, 'svc'), topics: [topic] });
      return offsets?.partitions.find((each) => each.partition === 0)?.offset;
    };
    const produce = (events: { conversationId: string }[]) =>
      kafka.produceRaw(
        topic,
        events.map((event) => ({ key: event.conversationId, value: JSON.stringify(event), partition: 0 })),
      );
    let stopped = false;
    try {
      await produce(chunks.slice(0, 2));
      await waitFor('two chunks to be passed by', () => passed.length === 2);
      await produce([message]);
      await waitFor('the message to be handled', () => handled.includes(message.eventId));
      await waitFor(
        'the offset to move past the chunks and the message',
        async () => (await committed()) === '3',
      );

      await produce(chunks.slice(2));
      await waitFor('the third chunk to be passed by', () => passed.length === 3);
      expect(await committed()).toBe('3'); // it waits for a handled message, or the server's close

      await stop();
      stopped = true;
      expect(await committed()).toBe('4');
    } finally {
      await admin.disconnect();
      if (!stopped) await stop();
    }
  });

  it('commits passed-by messages on their own when no handled message follows them', async () => {
    const chunk = replyChunk();
    const passed: string[] = [];
    const { prefix, topic, stop } = await overlappingServer('e', async () => undefined, {
      passedByCommitMs: 200,
      onHandled: (event, outcome) => outcome === 'ignored' && passed.push(event.eventId),
    });
    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      await kafka.produceRaw(topic, [
        { key: chunk.conversationId, value: JSON.stringify(chunk), partition: 0 },
      ]);
      await waitFor('the chunk to be passed by', () => passed.includes(chunk.eventId));
      await waitFor('its offset to be committed', async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: topicName(prefix, 'svc'), topics: [topic] });
        return offsets?.partitions.find((each) => each.partition === 0)?.offset === '1';
      });
    } finally {
      await admin.disconnect();
      await stop();
    }
  });
});
