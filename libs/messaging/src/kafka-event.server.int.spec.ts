import { randomUUID } from 'node:crypto';
import { Controller, Module } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import pino from 'pino';
import { PINO_LOGGER, ProblemFilter } from '@libs/platform';
import { EventPattern, Payload, type MessageHandler } from '@nestjs/microservices';
import {
  AppError,
  DEAD_LETTER_HEADERS,
  EVENT_HEADERS,
  TOPICS,
  type ConversationEvent,
  type EventOfType,
} from '@contracts';
import {
  KafkaEventServer,
  KafkaPublisher,
  type EventContext,
  type HandledOutcome,
  type KafkaEventServerOptions,
} from '@libs/messaging';
import {
  createTestKafka,
  envelopeOf,
  messageReceived,
  started,
  waitFor,
  type TestKafka,
} from '@test/support';

jest.setTimeout(90_000);

const MESSAGE_RECEIVED = 'conversation.message-received.v1';
const GROUP = 'svc';

type Outcome = HandledOutcome;
type MessageEvent = EventOfType<typeof MESSAGE_RECEIVED>;

let kafka: TestKafka;
let testNumber = 0;
let cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  kafka = await createTestKafka('event-server');
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

afterAll(async () => {
  await kafka?.drop();
});

/**
 * Each test gets topics of its own under the suite prefix, so a consumer reading from the beginning
 * sees only what its test produced.
 */
async function setup(options: Partial<KafkaEventServerOptions> = {}) {
  const prefix = `${kafka.prefix}t${++testNumber}.`;
  await kafka.ensureTopics(prefix);
  const publisher = new KafkaPublisher(kafka.kafka, prefix);
  await publisher.connect();
  const dlq = await kafka.record(`${prefix}${TOPICS.deadLetter}`);
  const outcomes: { eventId: string; outcome: Outcome }[] = [];
  const serverOptions: KafkaEventServerOptions = {
    kafka: kafka.kafka,
    publisher,
    topicPrefix: prefix,
    groupId: GROUP,
    logger: kafka.logger,
    maxAttempts: 4,
    onHandled: (event, outcome) => outcomes.push({ eventId: event.eventId, outcome }),
    ...options,
  };
  const servers: KafkaEventServer[] = [];
  cleanups.push(async () => {
    // Consumers leave in parallel (each may wait out a fetch); the publisher last, as servers use it.
    await Promise.all([...servers.map((server) => server.close()), dlq.stop()]);
    await publisher.disconnect();
  });
  return {
    prefix,
    topic: `${prefix}${TOPICS.conversationEvents}`,
    dlqTopic: `${prefix}${TOPICS.deadLetter}`,
    publisher,
    dlq,
    outcomes,
    serverOptions,
    /** A server with the given handler for message-received events, listening. */
    async startServer(handler: (event: MessageEvent, context: EventContext) => Promise<void>) {
      const server = new KafkaEventServer(serverOptions);
      servers.push(server);
      server.addHandler(MESSAGE_RECEIVED, handler as MessageHandler, true);
      await new Promise<void>((resolve, reject) => {
        void server.listen((error?: unknown) =>
          error ? reject(error instanceof Error ? error : new Error(JSON.stringify(error))) : resolve(),
        );
      });
      return server;
    },
    async stopServer(server: KafkaEventServer) {
      servers.splice(servers.indexOf(server), 1);
      await server.close();
    },
    outcomeOf(eventId: string) {
      return outcomes.filter((entry) => entry.eventId === eventId).map((entry) => entry.outcome);
    },
  };
}

function conversationEvents(conversationId: string, texts: string[]): ConversationEvent[] {
  return [
    envelopeOf(started(), conversationId, 1),
    ...texts.map((text, index) => envelopeOf(messageReceived(text), conversationId, index + 2)),
  ];
}

function publishAll(publisher: KafkaPublisher, events: ConversationEvent[]) {
  return publisher.publish(events.map((event) => ({ topic: TOPICS.conversationEvents, event })));
}

describe('KafkaEventServer with a real Kafka', () => {
  it('delivers valid events to the handler of their type, in order, and ignores types without a handler', async () => {
    const t = await setup();
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['first', 'second', 'third']);
    const seen: { event: MessageEvent; context: EventContext }[] = [];
    await t.startServer(async (event, context) => {
      seen.push({ event, context });
    });

    await publishAll(t.publisher, events);

    await waitFor('every event to be processed', () => t.outcomes.length === events.length);
    expect(t.outcomes).toEqual([
      { eventId: events[0]?.eventId, outcome: 'ignored' },
      ...events.slice(1).map((event) => ({ eventId: event.eventId, outcome: 'handled' })),
    ]);
    expect(seen.map(({ event }) => event)).toEqual(events.slice(1));
    const partitions = new Set(seen.map(({ context }) => context.partition));
    expect(partitions.size).toBe(1);
    for (const { context } of seen) expect(context.topic).toBe(t.topic);
    const offsets = seen.map(({ context }) => Number(context.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(await kafka.topicSize(t.dlqTopic)).toBe(0);
  });

  it('dead-letters malformed and schema-invalid messages with the reason, and keeps consuming', async () => {
    const t = await setup();
    const conversationId = randomUUID();
    const valid = envelopeOf(messageReceived('after the garbage'), conversationId, 2);
    const { data: _data, ...envelopeWithoutData } = valid;
    const raw = [
      { label: 'malformed', value: '{"eventId": "not closed', reason: 'malformed-json' },
      { label: 'empty', value: null, reason: 'malformed-json' },
      {
        label: 'no tenant',
        value: JSON.stringify({ ...valid, eventId: randomUUID(), tenantId: undefined }),
        reason: 'invalid-envelope',
      },
      {
        label: 'bad data',
        value: JSON.stringify({
          ...envelopeWithoutData,
          eventId: randomUUID(),
          data: { messageId: 'm', text: '' },
        }),
        reason: 'invalid-data',
      },
      {
        label: 'unknown type',
        value: JSON.stringify({ ...valid, eventId: randomUUID(), type: 'conversation.teleported.v1' }),
        reason: 'unknown-type',
      },
    ];
    const handled: string[] = [];
    await t.startServer(async (event) => {
      handled.push(event.eventId);
    });

    // All on one partition, garbage first: the valid message is only reached if the consumer survives.
    await kafka.produceRaw(t.topic, [
      ...raw.map(({ label, value }) => ({
        key: conversationId,
        value,
        partition: 0,
        headers: { 'x-label': label },
      })),
      { key: conversationId, value: JSON.stringify(valid), partition: 0, headers: { 'x-label': 'valid' } },
    ]);

    await waitFor('the valid message to be handled', () => handled.length === 1);
    expect(handled).toEqual([valid.eventId]);
    expect(t.outcomeOf(valid.eventId)).toEqual(['handled']);
    const letters = await waitFor('every bad message in the dead-letter topic', () =>
      t.dlq.messages.length >= raw.length ? t.dlq.messages : undefined,
    );
    expect(letters).toHaveLength(raw.length);
    const byOffset = [...letters].sort(
      (a, b) =>
        Number(a.headers[DEAD_LETTER_HEADERS.sourceOffset]) -
        Number(b.headers[DEAD_LETTER_HEADERS.sourceOffset]),
    );
    byOffset.forEach((letter, index) => {
      const original = raw[index]!;
      expect(letter.headers).toMatchObject({
        'x-label': original.label,
        [DEAD_LETTER_HEADERS.reason]: original.reason,
        [DEAD_LETTER_HEADERS.sourceTopic]: t.topic,
        [DEAD_LETTER_HEADERS.sourcePartition]: '0',
        [DEAD_LETTER_HEADERS.consumerGroup]: GROUP,
      });
      expect(letter.headers[DEAD_LETTER_HEADERS.detail]).toEqual(expect.stringMatching(/\S/));
      // The original bytes and key, unchanged, so the message can be inspected and replayed.
      expect(letter.key).toBe(conversationId);
      expect(letter.value).toBe(original.value);
    });
    const sourceOffsets = byOffset.map((letter) => Number(letter.headers[DEAD_LETTER_HEADERS.sourceOffset]));
    expect(new Set(sourceOffsets).size).toBe(raw.length);
  });

  it('dead-letters an event whose handler fails with a non-retryable AppError, without retrying, and goes on', async () => {
    const t = await setup();
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['reject me', 'fine']);
    const [, rejected, accepted] = events as [ConversationEvent, MessageEvent, MessageEvent];
    const calls: string[] = [];
    await t.startServer(async (event) => {
      calls.push(event.eventId);
      if (event.data.text === 'reject me')
        throw new AppError('conversation-closed', 'closed before the reply');
    });

    await publishAll(t.publisher, events);

    await waitFor('the next event to be handled', () => t.outcomeOf(accepted.eventId).length === 1);
    expect(t.outcomeOf(rejected.eventId)).toEqual(['dead-lettered']);
    expect(t.outcomeOf(accepted.eventId)).toEqual(['handled']);
    expect(calls).toEqual([rejected.eventId, accepted.eventId]);
    const [letter] = await waitFor('the dead letter', () =>
      t.dlq.messages.length > 0 ? t.dlq.messages : undefined,
    );
    expect(t.dlq.messages).toHaveLength(1);
    expect(JSON.parse(letter?.value ?? 'null')).toEqual(rejected);
    expect(letter?.key).toBe(conversationId);
    expect(letter?.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.reason]: 'handler-rejected',
      [DEAD_LETTER_HEADERS.detail]: 'conversation-closed: closed before the reply',
      [DEAD_LETTER_HEADERS.sourceTopic]: t.topic,
      [EVENT_HEADERS.eventId]: rejected.eventId,
      [EVENT_HEADERS.type]: MESSAGE_RECEIVED,
    });
  });

  it.each([
    ['a retryable AppError', () => new AppError('dependency-unavailable', 'index down')],
    ['an unexpected Error', () => new Error('connection reset')],
  ])(
    'retries a handler failing with %s and succeeds, in order, without dead-lettering',
    async (_label, failure) => {
      const t = await setup();
      const conversationId = randomUUID();
      const events = conversationEvents(conversationId, ['flaky', 'next']);
      const [, flaky, next] = events as [ConversationEvent, MessageEvent, MessageEvent];
      const calls: string[] = [];
      await t.startServer(async (event) => {
        calls.push(event.eventId);
        if (event.eventId === flaky.eventId && calls.length <= 2) throw failure();
      });

      await publishAll(t.publisher, events);

      await waitFor('both events to be handled', () => t.outcomeOf(next.eventId).length === 1);
      expect(calls).toEqual([flaky.eventId, flaky.eventId, flaky.eventId, next.eventId]);
      expect(t.outcomeOf(flaky.eventId)).toEqual(['handled']);
      expect(t.outcomes.map((entry) => entry.eventId)).toEqual(events.map((event) => event.eventId));
      expect(await kafka.topicSize(t.dlqTopic)).toBe(0);
    },
  );

  it('does not commit an event whose handler keeps failing past maxAttempts: Kafka redelivers it', async () => {
    const t = await setup({ maxAttempts: 2 });
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['stubborn', 'next']);
    const [, stubborn, next] = events as [ConversationEvent, MessageEvent, MessageEvent];
    const calls: string[] = [];
    await t.startServer(async (event) => {
      calls.push(event.eventId);
      // Both attempts of the first delivery fail, and the first attempt of the redelivery.
      if (event.eventId === stubborn.eventId && calls.length <= 3) throw new Error('database unavailable');
    });

    await publishAll(t.publisher, events);

    await waitFor('both events to be handled', () => t.outcomeOf(next.eventId).length === 1, {
      timeoutMs: 30_000,
    });
    expect(calls).toEqual([
      stubborn.eventId,
      stubborn.eventId,
      stubborn.eventId,
      stubborn.eventId,
      next.eventId,
    ]);
    expect(t.outcomeOf(stubborn.eventId)).toEqual(['handled']);
    expect(await kafka.topicSize(t.dlqTopic)).toBe(0);
  });

  it('commits handled and dead-lettered events: a restarted consumer of the same group resumes after them', async () => {
    const t = await setup();
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['ok', 'reject me']);
    const firstRun: string[] = [];
    const first = await t.startServer(async (event) => {
      firstRun.push(event.eventId);
      if (event.data.text === 'reject me') throw new AppError('validation-failed');
    });
    await publishAll(t.publisher, events);
    await waitFor('the first run to finish', () => t.outcomes.length === events.length);
    await t.stopServer(first);

    const later = envelopeOf(messageReceived('after the restart'), conversationId, events.length + 1);
    const secondRun: string[] = [];
    await t.startServer(async (event) => {
      secondRun.push(event.eventId);
    });
    await publishAll(t.publisher, [later]);

    await waitFor('the new event to be handled', () => secondRun.length === 1);
    expect(secondRun).toEqual([later.eventId]);
    expect(await kafka.topicSize(t.dlqTopic)).toBe(1);
  });
});

/** What the services really run: the server as a Nest microservice strategy, handlers on a controller. */
describe('KafkaEventServer as the transport of a Nest microservice', () => {
  const behaviour = { onMessage: async (_event: MessageEvent): Promise<void> => undefined };

  @Controller()
  class MessagesController {
    @EventPattern([MESSAGE_RECEIVED])
    async onMessage(@Payload() event: MessageEvent): Promise<void> {
      await behaviour.onMessage(event);
    }
  }

  // Wired as every service is: the platform's exception filter lets handler errors through unchanged.
  @Module({
    controllers: [MessagesController],
    providers: [
      { provide: APP_FILTER, useClass: ProblemFilter },
      { provide: PINO_LOGGER, useValue: pino({ level: 'silent' }) },
    ],
  })
  class MessagesModule {}

  async function startNestApp(t: Awaited<ReturnType<typeof setup>>) {
    const server = new KafkaEventServer(t.serverOptions);
    const app = await NestFactory.createMicroservice(MessagesModule, { strategy: server, logger: false });
    cleanups.push(() => app.close());
    await app.listen();
    return app;
  }

  it('delivers events to an @EventPattern controller method', async () => {
    const t = await setup();
    const events = conversationEvents(randomUUID(), ['via nest']);
    const seen: string[] = [];
    behaviour.onMessage = async (event) => {
      seen.push(event.eventId);
    };
    await startNestApp(t);

    await publishAll(t.publisher, events);

    await waitFor('the controller to see the message', () => seen.length === 1);
    expect(seen).toEqual([events[1]?.eventId]);
  });

  // Nest's own RPC exception handling would turn the AppError into "Internal server error" and the
  // event would be retried for ever; the platform filter keeps the code so it is dead-lettered.
  it('dead-letters an event whose controller throws a non-retryable AppError', async () => {
    const t = await setup({ maxAttempts: 2 });
    const events = conversationEvents(randomUUID(), ['reject me']);
    let calls = 0;
    behaviour.onMessage = async () => {
      calls++;
      throw new AppError('conversation-closed');
    };
    await startNestApp(t);

    await publishAll(t.publisher, events);

    // Either it is dead-lettered, or it comes back again and again.
    await waitFor('a dead letter or a third call', () => t.dlq.messages.length > 0 || calls >= 3, {
      timeoutMs: 30_000,
    });
    expect(calls).toBe(1);
    expect(t.dlq.messages[0]?.headers[DEAD_LETTER_HEADERS.reason]).toBe('handler-rejected');
  });
});
