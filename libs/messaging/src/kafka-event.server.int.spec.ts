import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller, Module } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import pino from 'pino';
import type { DataSource } from 'typeorm';
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
  failureKind,
  redriveDeadLetters,
  type EventContext,
  type FailureKind,
  type HandledOutcome,
  type KafkaEventServerOptions,
} from '@libs/messaging';
import { createDataSource } from '@libs/event-store';
import {
  TcpProxy,
  adminDatabaseUrl,
  createTestKafka,
  envelopeOf,
  messageReceived,
  holdsFor,
  started,
  waitFor,
  type TestKafka,
} from '@test/support';

jest.setTimeout(90_000);

const execFileAsync = promisify(execFile);

const MESSAGE_RECEIVED = 'conversation.message-received.v1';
const STARTED = 'conversation.started.v2';
const GROUP = 'svc';

type Outcome = HandledOutcome;
type MessageEvent = EventOfType<typeof MESSAGE_RECEIVED>;
type StartedEvent = EventOfType<typeof STARTED>;

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
    /**
     * A server with the given handler for message-received events (and one for started events, if
     * given), listening; in the suite's group unless `groupId` names another one.
     */
    async startServer(
      handler: (event: MessageEvent, context: EventContext) => Promise<void>,
      {
        groupId,
        onStarted,
        onHandled,
      }: {
        groupId?: string;
        onStarted?: (event: StartedEvent) => Promise<void>;
        onHandled?: KafkaEventServerOptions['onHandled'];
      } = {},
    ) {
      const server = new KafkaEventServer({
        ...serverOptions,
        ...(groupId === undefined ? {} : { groupId, onHandled }),
      });
      servers.push(server);
      server.addHandler(MESSAGE_RECEIVED, handler as MessageHandler, true);
      if (onStarted) server.addHandler(STARTED, onStarted as MessageHandler, true);
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

  it('passes a message by, unparsed, when its type header names a type without a handler here', async () => {
    const t = await setup();
    const conversationId = randomUUID();
    const valid = envelopeOf(messageReceived('after the others'), conversationId, 3);
    const chunkId = randomUUID();
    const handled: string[] = [];
    await t.startServer(async (event) => {
      handled.push(event.eventId);
    });

    await kafka.produceRaw(t.topic, [
      // Not parsed: a type this consumer does not handle (its bytes would not even parse).
      {
        key: conversationId,
        value: '{"not": "parsed',
        partition: 0,
        headers: {
          [EVENT_HEADERS.type]: 'conversation.reply-chunk-generated.v1',
          [EVENT_HEADERS.eventId]: chunkId,
        },
      },
      // Parsed, because it names a handled type: garbage there is still dead-lettered.
      {
        key: conversationId,
        value: '{"eventId": "not closed',
        partition: 0,
        headers: { [EVENT_HEADERS.type]: MESSAGE_RECEIVED },
      },
      {
        key: conversationId,
        value: JSON.stringify(valid),
        partition: 0,
        headers: { [EVENT_HEADERS.type]: MESSAGE_RECEIVED },
      },
    ]);

    await waitFor('the valid message to be handled', () => handled.length === 1);
    expect(t.outcomeOf(chunkId)).toEqual(['ignored']);
    const letters = await waitFor('the garbage of a handled type in the dead-letter topic', () =>
      t.dlq.messages.length >= 1 ? t.dlq.messages : undefined,
    );
    expect(letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.reason])).toEqual(['malformed-json']);
  });

  it('passes a message by, unparsed, when its tenant and key are of no interest here, and takes the others', async () => {
    const t = await setup();
    const watched = randomUUID();
    const unwatched = randomUUID();
    const handled: string[] = [];
    const server = await t.startServer(async (event) => {
      handled.push(`${event.tenantId}/${event.conversationId}/${event.data.text}`);
    });
    server.passByUnless((tenantId, key) => tenantId === 'acme' && key === watched);

    const otherTenant = envelopeOf(
      messageReceived('same conversation id, other tenant'),
      watched,
      2,
      'globex',
    );
    const unwatchedEvent = envelopeOf(messageReceived('nobody watches'), unwatched, 2);
    const watchedEvent = envelopeOf(messageReceived('watched'), watched, 2);
    // All in one partition, the watched one last: when it is handled, the others were taken before it.
    await kafka.produceRaw(t.topic, [
      // Not parsed: a conversation nobody here watches (its bytes would not even parse).
      {
        key: unwatched,
        value: '{"not": "parsed',
        partition: 0,
        headers: { [EVENT_HEADERS.type]: MESSAGE_RECEIVED, [EVENT_HEADERS.tenantId]: 'acme' },
      },
      ...[unwatchedEvent, otherTenant, watchedEvent].map((event) => ({
        key: event.conversationId,
        value: JSON.stringify(event),
        partition: 0,
        headers: {
          [EVENT_HEADERS.type]: MESSAGE_RECEIVED,
          [EVENT_HEADERS.tenantId]: event.tenantId,
          [EVENT_HEADERS.eventId]: event.eventId,
        },
      })),
    ]);

    await waitFor('the watched conversation to be handled', () => handled.length >= 1);
    await holdsFor('nothing else handled', () => handled.length === 1, { durationMs: 500 });
    expect(handled).toEqual([`acme/${watched}/watched`]);
    expect(t.outcomeOf(unwatchedEvent.eventId)).toEqual(['ignored']);
    expect(t.outcomeOf(otherTenant.eventId)).toEqual(['ignored']);
    expect(t.dlq.messages).toHaveLength(0);
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

describe('KafkaEventServer with a poison message', () => {
  it.each([
    ['maxAttempts failures', { maxAttempts: 3, maxRetryMs: 60_000 }],
    ['maxRetryMs of failures', { maxAttempts: 1_000, maxRetryMs: 1_500 }],
  ])(
    'parks an event whose handler keeps failing after %s, then handles the later events of its partition',
    async (_label, budget) => {
      const t = await setup(budget);
      const conversationId = randomUUID();
      const events = conversationEvents(conversationId, ['poison', 'after 1', 'after 2']);
      const [, poison, after1, after2] = events as [ConversationEvent, ...MessageEvent[]];
      const calls: string[] = [];
      await t.startServer(async (event) => {
        calls.push(event.eventId);
        if (event.eventId === poison?.eventId)
          throw new Error("Cannot read properties of undefined (reading 'x')");
      });

      await publishAll(t.publisher, events);

      await waitFor(
        'the events after the poison to be handled',
        () => t.outcomeOf(after2!.eventId).length > 0,
        {
          timeoutMs: 30_000,
        },
      );
      expect(t.outcomeOf(poison!.eventId)).toEqual(['parked']);
      const poisonCalls = calls.filter((id) => id === poison?.eventId).length;
      if (budget.maxAttempts === 3) expect(poisonCalls).toBe(3);
      else expect(poisonCalls).toBeGreaterThanOrEqual(2);
      // Later messages of the same key (so the same partition) come after it, in order.
      expect(calls.slice(poisonCalls)).toEqual([after1?.eventId, after2?.eventId]);
      const [letter] = await waitFor('the dead letter', () =>
        t.dlq.messages.length > 0 ? t.dlq.messages : undefined,
      );
      expect(t.dlq.messages).toHaveLength(1);
      expect(letter?.key).toBe(conversationId);
      expect(JSON.parse(letter?.value ?? 'null')).toEqual(poison);
      expect(letter?.headers).toMatchObject({
        [DEAD_LETTER_HEADERS.reason]: 'retries-exhausted',
        [DEAD_LETTER_HEADERS.detail]: "Cannot read properties of undefined (reading 'x')",
        [DEAD_LETTER_HEADERS.attempts]: String(poisonCalls),
        [DEAD_LETTER_HEADERS.consumerGroup]: GROUP,
        [DEAD_LETTER_HEADERS.sourceTopic]: t.topic,
        [EVENT_HEADERS.eventId]: poison?.eventId,
      });
      const firstFailedAt = Date.parse(letter?.headers[DEAD_LETTER_HEADERS.firstFailedAt] ?? '');
      expect(firstFailedAt).toBeLessThanOrEqual(Date.now());
      expect(Date.now() - firstFailedAt).toBeLessThan(60_000);
    },
  );

  it('commits past a parked event: a restarted consumer of the group does not see it again', async () => {
    const t = await setup({ maxAttempts: 2 });
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['poison']);
    const poison = events[1] as MessageEvent;
    const first = await t.startServer(async () => {
      throw new Error('bug');
    });
    await publishAll(t.publisher, events);
    await waitFor('the poison to be parked', () => t.outcomeOf(poison.eventId).length > 0);
    await t.stopServer(first);

    const later = envelopeOf(messageReceived('after the restart'), conversationId, events.length + 1);
    const secondRun: string[] = [];
    await t.startServer(async (event) => {
      secondRun.push(event.eventId);
    });
    await publishAll(t.publisher, [later]);

    await waitFor('the new event to be handled', () => secondRun.length === 1);
    expect(secondRun).toEqual([later.eventId]);
    expect(t.outcomeOf(poison.eventId)).toEqual(['parked']);
  });
});

describe('KafkaEventServer during a database outage', () => {
  let proxy: TcpProxy;
  let db: DataSource;

  beforeEach(async () => {
    const target = new URL(adminDatabaseUrl());
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    // The handler's database, reached through the proxy; the suite's own state needs none.
    db = createDataSource(proxy.via(adminDatabaseUrl()), 'it-event-server-outage', 2);
    await db.initialize();
  });

  afterEach(async () => {
    await proxy.stop();
    await db.destroy().catch(() => undefined);
  });

  it('waits out an outage longer than the park budget, never parking, and handles the event when the database is back', async () => {
    // Any other failure would be parked at the 2nd attempt, 400 ms in.
    const t = await setup({ maxAttempts: 2, maxRetryMs: 1_000 });
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['during the outage', 'after it']);
    const [, during, after] = events as [ConversationEvent, MessageEvent, MessageEvent];
    const failures: { eventId: string; kind: FailureKind }[] = [];
    await t.startServer(async (event) => {
      try {
        await db.query('SELECT 1');
      } catch (error) {
        failures.push({ eventId: event.eventId, kind: failureKind(error) });
        throw error;
      }
    });
    proxy.cut();

    await publishAll(t.publisher, events);

    // Attempts at 0, 0.4, 1.2 and 2.8 s: past both limits of the budget.
    await waitFor('four failed attempts', () => failures.length >= 4, { timeoutMs: 30_000 });
    expect(failures.every(({ eventId, kind }) => eventId === during.eventId && kind === 'outage')).toBe(true);
    expect(t.outcomeOf(during.eventId)).toEqual([]);
    expect(await kafka.topicSize(t.dlqTopic)).toBe(0);

    proxy.restore();

    await waitFor('both events to be handled', () => t.outcomeOf(after.eventId).length > 0, {
      timeoutMs: 30_000,
    });
    expect(t.outcomeOf(during.eventId)).toEqual(['handled']);
    expect(t.outcomeOf(after.eventId)).toEqual(['handled']);
    expect(t.dlq.messages).toEqual([]);
    expect(await kafka.topicSize(t.dlqTopic)).toBe(0);
  });
});

describe('re-driving parked events', () => {
  const OTHER_GROUP = 'other';

  /** The suite's group parks what `broken` says while it is true; another group handles everything. */
  async function parkedSetup(broken: (event: ConversationEvent) => boolean) {
    const t = await setup({ maxAttempts: 2 });
    const state = { fixed: false };
    const handled: string[] = [];
    const otherHandled: string[] = [];
    const handle = async (event: ConversationEvent) => {
      if (!state.fixed && broken(event)) throw new Error('bug');
      handled.push(event.eventId);
    };
    await t.startServer(handle, { onStarted: handle });
    const record = async (event: ConversationEvent) => {
      otherHandled.push(event.eventId);
    };
    await t.startServer(record, { groupId: OTHER_GROUP, onStarted: record });
    return { t, state, handled, otherHandled };
  }

  function redrive(t: Awaited<ReturnType<typeof setup>>, options: { type?: string; dryRun?: boolean } = {}) {
    return redriveDeadLetters({
      kafka: kafka.kafka,
      topicPrefix: t.prefix,
      group: GROUP,
      logger: kafka.logger,
      ...options,
    });
  }

  /** Once both groups handled an event published now, they have seen everything before it. */
  async function settle(
    t: Awaited<ReturnType<typeof setup>>,
    s: { handled: string[]; otherHandled: string[] },
    conversationId: string,
    sequence: number,
  ) {
    const marker = envelopeOf(messageReceived('marker'), conversationId, sequence);
    await publishAll(t.publisher, [marker]);
    await waitFor(
      'both groups to handle the marker',
      () => s.handled.includes(marker.eventId) && s.otherHandled.includes(marker.eventId),
    );
    return marker;
  }

  it('re-publishes a parked event for its group only, once: handled once there, not again by another group', async () => {
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['poison', 'after']);
    const [first, poison, after] = events as [ConversationEvent, MessageEvent, MessageEvent];
    const s = await parkedSetup((event) => event.eventId === poison.eventId);
    const { t } = s;
    await publishAll(t.publisher, events);
    await waitFor(
      'the poison to be parked and the others handled by both groups',
      () =>
        t.outcomeOf(poison.eventId).includes('parked') &&
        s.handled.includes(after.eventId) &&
        s.otherHandled.length === 3,
    );
    s.state.fixed = true;

    const listed = await redrive(t, { dryRun: true });
    const expected = {
      partition: 0,
      sourceTopic: t.topic,
      key: conversationId,
      type: MESSAGE_RECEIVED,
      eventId: poison.eventId,
      reason: 'retries-exhausted',
    };
    expect(listed).toEqual([expect.objectContaining(expected)]);
    expect(await kafka.topicSize(t.topic)).toBe(events.length);

    const redriven = await redrive(t);

    expect(redriven).toEqual(listed);
    await waitFor('the re-driven event to be handled', () => s.handled.includes(poison.eventId));
    expect(await redrive(t)).toEqual([]);
    const marker = await settle(t, s, conversationId, events.length + 1);
    expect(s.handled).toEqual([first.eventId, after.eventId, poison.eventId, marker.eventId]);
    expect(t.outcomeOf(poison.eventId)).toEqual(['parked', 'handled']);
    expect(s.otherHandled).toEqual([first.eventId, poison.eventId, after.eventId, marker.eventId]);
    // The original, the re-driven copy (with its header) and the marker: all through the one topic.
    expect(await kafka.topicSize(t.topic)).toBe(events.length + 2);
  });

  it('re-drives one event type with --type and the others later, each dead letter once', async () => {
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['poison']);
    const [started, poison] = events as [StartedEvent, MessageEvent];
    const s = await parkedSetup(() => true);
    const { t } = s;
    await publishAll(t.publisher, events);
    await waitFor(
      'both events to be parked',
      () => t.outcomeOf(started.eventId).includes('parked') && t.outcomeOf(poison.eventId).includes('parked'),
    );
    s.state.fixed = true;

    const messages = await redrive(t, { type: MESSAGE_RECEIVED });
    const rest = await redrive(t);
    const none = await redrive(t);

    expect(messages.map((letter) => letter.eventId)).toEqual([poison.eventId]);
    expect(rest.map((letter) => letter.eventId)).toEqual([started.eventId]);
    expect(none).toEqual([]);
    const marker = await settle(t, s, conversationId, events.length + 1);
    // Re-driven in dead-letter order, each once.
    expect(s.handled).toEqual([poison.eventId, started.eventId, marker.eventId]);
  });

  it('takes only the dead letters of the named group', async () => {
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['poison']);
    const poison = events[1] as MessageEvent;
    const s = await parkedSetup((event) => event.eventId === poison.eventId);
    const { t } = s;
    await publishAll(t.publisher, events);
    await waitFor('the poison to be parked', () => t.outcomeOf(poison.eventId).includes('parked'));

    const forOther = await redriveDeadLetters({
      kafka: kafka.kafka,
      topicPrefix: t.prefix,
      group: OTHER_GROUP,
      logger: kafka.logger,
    });

    expect(forOther).toEqual([]);
    expect((await redrive(t, { dryRun: true })).map((letter) => letter.eventId)).toEqual([poison.eventId]);
  });

  it('npm run dlq:redrive: the CLI re-drives and prints each dead letter, and refuses to run without --group', async () => {
    const conversationId = randomUUID();
    const events = conversationEvents(conversationId, ['poison']);
    const poison = events[1] as MessageEvent;
    const s = await parkedSetup((event) => event.eventId === poison.eventId);
    const { t } = s;
    await publishAll(t.publisher, events);
    await waitFor('the poison to be parked', () => t.outcomeOf(poison.eventId).includes('parked'));
    s.state.fixed = true;

    const { stdout } = await runCli(t.prefix, ['--group', GROUP]);

    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        eventId: poison.eventId,
        type: MESSAGE_RECEIVED,
        reason: 'retries-exhausted',
      }),
      { group: GROUP, dryRun: false, count: 1 },
    ]);
    await waitFor('the re-driven event to be handled', () => s.handled.includes(poison.eventId));
    await expect(runCli(t.prefix, ['--type', MESSAGE_RECEIVED])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: npm run dlq:redrive'),
    });
  });
});

const REPO_ROOT = join(__dirname, '..', '..', '..');

/** The CLI as the operator runs it, from its TypeScript source (ts-node, without type-checking). */
function runCli(prefix: string, args: string[]) {
  return execFileAsync(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(REPO_ROOT, 'libs/platform/src/cli/redrive-dead-letters.ts'),
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' },
      timeout: 60_000,
    },
  );
}

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
