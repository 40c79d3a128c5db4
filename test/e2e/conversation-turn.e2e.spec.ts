/**
 * The whole engine end to end, as a contact-centre frontend and an analyst use it: REST -> event store
 * -> outbox -> Kafka -> sessions -> inference (the real llama-server) -> Kafka -> gateway -> WebSocket.
 * Five real service processes, real PostgreSQL, Kafka and LLM; a fresh database and topic prefix.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GatewayClient, GatewaySocket } from '@libs/client';
import { createKafka, topicName } from '@libs/messaging';
import { fold, toView } from '@libs/conversation';
import { TOPICS, isSealed, type ConversationEvent, type ServerFrame } from '@contracts';
import { DataKeyRepository, PersonalDataCipher, parseMasterKey } from '@libs/event-store';
import { createLogger } from '@libs/platform';
import {
  E2eStack,
  ServiceProcesses,
  answerEveryMessage,
  committedSchemaValidator,
  createTenantWithKey,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(240_000);

const run = promisify(execFile);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
/** The five services listen on this port and the four after it; agents running suites side by side pick their own. */
const basePort = Number(process.env.E2E_BASE_PORT ?? 4100);
let stack: E2eStack;
let prefix: string;
let db: TestDatabase;
let services: ServiceProcesses;
let alice: GatewayClient; // tenant acme
let mallory: GatewayClient; // tenant globex, another customer of the platform

beforeAll(async () => {
  stack = await E2eStack.create('turn', ['LLM_BASE_URL']);
  ({ db, prefix } = stack);
  const acmeKey = await createTenantWithKey(db.dataSource, 'acme');
  // This suite is about the turn's plumbing, not about understanding: with one intent that needs no slots
  // every message is answered by the model, whatever the small local classifier would make of it (the
  // dialogue spec covers intents, slots and handoff).
  await answerEveryMessage(db.dataSource, 'acme', [
    'What are your opening hours?',
    '这个水壶是多少瓦的？',
    'Do you ship abroad?',
  ]);
  const globexKey = await createTenantWithKey(db.dataSource, 'globex');
  services = stack.services(basePort, { REPLY_MAX_TOKENS: '200', LLM_TEMPERATURE: '0' });
  await services.startAll();
  alice = new GatewayClient(services.url('gateway'), acmeKey);
  mallory = new GatewayClient(services.url('gateway'), globexKey);
});

afterAll(async () => {
  await stack?.stop();
});

/** Retrieval's answer to a customer message (one per message, appended beside the turn). */
function knowledgeRetrievedFor(socket: GatewaySocket, messageId: string) {
  return socket.waitForEvent(
    'conversation.knowledge-retrieved.v1',
    (event) => event.data.messageId === messageId,
  );
}

async function storedEvents(conversationId: string): Promise<ConversationEvent[]> {
  const rows: { event_id: string }[] = await db.dataSource.query(
    'SELECT event_id FROM events WHERE stream_id = $1 ORDER BY sequence',
    [conversationId],
  );
  // The client validates every page against the contracts' event schemas.
  const events = await alice.allEvents(conversationId);
  expect(events.map((event) => event.eventId)).toEqual(rows.map((row) => row.event_id));
  return events;
}

async function openConversation(client: GatewayClient = alice, locale?: string): Promise<string> {
  const view = await client.startConversation(locale === undefined ? {} : { channel: 'web', locale });
  return view.conversationId;
}

async function subscribed(conversationId: string): Promise<GatewaySocket> {
  const socket = await alice.connect();
  await socket.subscribe(conversationId);
  return socket;
}

async function storeCounts(): Promise<Record<string, number>> {
  const [row] = await db.dataSource.query(
    `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM streams)::int AS streams,
            (SELECT coalesce(max(version), 0) FROM streams)::int AS max_version`,
  );
  return row as Record<string, number>;
}

function completions(events: ConversationEvent[], turnId: string): ConversationEvent[] {
  return events.filter(
    (event) => event.type === 'conversation.reply-completed.v2' && event.data.turnId === turnId,
  );
}

describe('a conversation turn end to end', () => {
  let conversationId: string;
  let socket: GatewaySocket;

  afterAll(() => socket?.close());

  it('streams replies to a Chinese and an English message over the WebSocket', async () => {
    conversationId = await openConversation(alice, 'zh-CN');
    socket = await subscribed(conversationId);
    // A frontend that keeps the transcript itself asks for compact state frames on its own socket.
    const compact = await alice.connect();
    await compact.subscribe(conversationId, { stateFrames: 'compact' });

    // Product questions: intents without slots, so each turn is answered by the model (a question for a
    // missing order number would be a template, see test/e2e/dialogue.e2e.spec.ts).
    for (const text of ['你好，这款电水壶支持 110V 吗？', 'Hello, is the kettle stainless steel?']) {
      const { messageId } = await alice.sendMessage(conversationId, text);
      const done = await socket.waitForReply(messageId); // rejects if the turn failed
      const chunks = socket
        .eventsOfType('conversation.reply-chunk-generated.v1', conversationId)
        .filter((event) => event.data.turnId === done.data.turnId);
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.map((chunk) => chunk.data.text).join('')).toBe(done.data.text);
      expect(done.data.text.length).toBeGreaterThan(0);
    }

    const state = await alice.getConversation(conversationId);
    expect(state.status).toBe('collecting');
    expect(state.transcript.map((entry) => entry.role)).toEqual([
      'customer',
      'assistant',
      'customer',
      'assistant',
    ]);
    const stateFrames = socket.frames.filter((frame) => frame.type === 'state');
    expect(stateFrames.at(-1)).toEqual({ type: 'state', state });

    // The compact socket got the same events and, instead of state frames, the state without its
    // transcript plus the entries each change added: together, the same transcript.
    await compact.waitFor((frame) => frame.type === 'state-compact' && frame.state.version === state.version);
    compact.close();
    expect(compact.events().map((event) => event.eventId)).toEqual(
      socket.events().map((event) => event.eventId),
    );
    expect(compact.frames.some((frame) => frame.type === 'state')).toBe(false);
    const compactFrames = compact.frames.filter((frame) => frame.type === 'state-compact');
    expect(compactFrames).toHaveLength(stateFrames.length);
    const { transcript, ...rest } = state;
    expect(compactFrames.at(-1)?.state).toEqual({ ...rest, transcriptLength: transcript.length });
    expect(compact.transcript(conversationId)).toEqual(transcript);
  });

  it('serves the stored stream, which replays to exactly the live state', async () => {
    const events = await storedEvents(conversationId);
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => index + 1));
    const live = await alice.getConversation(conversationId);
    expect(toView(fold(events))).toEqual(live);

    const validate = committedSchemaValidator();
    for (const event of events) expect(validate(event)).toBeNull();
  });

  it('puts every event on Kafka in order, readable by kcat, customer text sealed, valid against the committed JSON Schema', async () => {
    const stored = await storedEvents(conversationId);
    const topic = topicName(prefix, TOPICS.conversationEvents);
    const { stdout } = await run(
      'kcat',
      ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const seen = stdout
      .split('\n')
      .filter((line) => line.startsWith(`${conversationId}\t`))
      .map((line) => JSON.parse(line.slice(line.indexOf('\t') + 1)) as ConversationEvent);
    expect(seen.map((event) => event.eventId)).toEqual(stored.map((event) => event.eventId));
    // Customer text travels sealed; opened with the conversation's data key it is exactly what is stored.
    const messages = seen.filter((event) => event.type === 'conversation.message-received.v1');
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expect(isSealed(message.data.text)).toBe(true);
    const cipher = new PersonalDataCipher(
      new DataKeyRepository(db.dataSource, parseMasterKey(services.dataKeyEncryptionKey)),
    );
    expect(await cipher.open(seen)).toEqual(stored);
    const validate = committedSchemaValidator();
    for (const event of seen) expect(validate(event)).toBeNull();
  });

  it('replays the stored stream to a late subscriber, in order, before live events', async () => {
    const late = await alice.connect();
    await late.subscribe(conversationId, { afterSequence: 0 });
    const stored = await storedEvents(conversationId);
    await late.waitFor((frame) => frame.type === 'event' && frame.event.sequence === stored.length);
    expect(late.events(conversationId).map((event) => event.eventId)).toEqual(
      stored.map((event) => event.eventId),
    );
    late.close();
  });

  it('records a retried message once and answers it once', async () => {
    const retried = { clientMessageId: 'client-msg-42' };
    const { messageId: first } = await alice.sendMessage(
      conversationId,
      'Is it raining in Shanghai?',
      retried,
    );
    const { messageId: second } = await alice.sendMessage(
      conversationId,
      'Is it raining in Shanghai?',
      retried,
    );
    expect(second).toBe(first);
    const done = await socket.waitForTurnEnd(first);
    const events = await storedEvents(conversationId);
    expect(
      events.filter(
        (event) => event.type === 'conversation.message-received.v1' && event.data.messageId === first,
      ),
    ).toHaveLength(1);
    expect(completions(events, done.data.turnId)).toHaveLength(1);
  });
});

describe('bad input', () => {
  let conversationId: string;

  beforeAll(async () => {
    conversationId = await openConversation();
  });

  const cases: [
    string,
    number,
    string,
    () => Promise<{ status: number; contentType: string; body: unknown }>,
  ][] = [
    [
      'no API key',
      401,
      'unauthorized',
      () =>
        new GatewayClient(services.url('gateway'), null).request(
          'POST',
          `/v1/conversations/${conversationId}/messages`,
          { json: { text: 'hi' } },
        ),
    ],
    [
      'an unknown API key',
      401,
      'unauthorized',
      () =>
        new GatewayClient(services.url('gateway'), 'cek_not-a-key').request(
          'GET',
          `/v1/conversations/${conversationId}`,
        ),
    ],
    [
      'malformed JSON',
      400,
      'invalid-json',
      () =>
        alice.request('POST', `/v1/conversations/${conversationId}/messages`, {
          raw: '{"text": "hi"',
          headers: { 'content-type': 'application/json' },
        }),
    ],
    [
      'a wrong content type',
      415,
      'unsupported-media-type',
      () =>
        alice.request('POST', `/v1/conversations/${conversationId}/messages`, {
          raw: 'text=hi',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
    ],
    [
      'an empty message',
      400,
      'validation-failed',
      () => alice.request('POST', `/v1/conversations/${conversationId}/messages`, { json: { text: '' } }),
    ],
    [
      'a blank message',
      400,
      'validation-failed',
      () =>
        alice.request('POST', `/v1/conversations/${conversationId}/messages`, { json: { text: ' \n\t ' } }),
    ],
    [
      'no text at all',
      400,
      'validation-failed',
      () => alice.request('POST', `/v1/conversations/${conversationId}/messages`, { json: {} }),
    ],
    [
      'a message over 32 KiB',
      413,
      'message-too-large',
      () =>
        alice.request('POST', `/v1/conversations/${conversationId}/messages`, {
          json: { text: '长'.repeat(11_000) },
        }),
    ],
    [
      'a body over the limit',
      413,
      'payload-too-large',
      () =>
        alice.request('POST', `/v1/conversations/${conversationId}/messages`, {
          json: { text: 'a'.repeat(200_000) },
        }),
    ],
    [
      'an unknown field',
      400,
      'validation-failed',
      () =>
        alice.request('POST', `/v1/conversations/${conversationId}/messages`, {
          json: { text: 'hi', tenantId: 'globex' },
        }),
    ],
    [
      'an unknown conversation',
      404,
      'conversation-not-found',
      () =>
        alice.request('POST', '/v1/conversations/6f0e4a52-8d1b-4c1e-9a55-3f1f0f7c2b10/messages', {
          json: { text: 'hi' },
        }),
    ],
    [
      'a malformed conversation id',
      404,
      'conversation-not-found',
      () => alice.request('GET', '/v1/conversations/not-a-uuid'),
    ],
    [
      "another tenant's conversation",
      404,
      'conversation-not-found',
      () => mallory.request('POST', `/v1/conversations/${conversationId}/messages`, { json: { text: 'hi' } }),
    ],
    [
      'bad pagination',
      400,
      'validation-failed',
      () => alice.request('GET', `/v1/conversations/${conversationId}/events?limit=0`),
    ],
    [
      'a bad channel',
      400,
      'validation-failed',
      () => alice.request('POST', '/v1/conversations', { json: { channel: 'carrier-pigeon' } }),
    ],
  ];

  it.each(cases)('%s gets a problem+json %i (%s) and writes nothing', async (_name, status, code, call) => {
    const before = await storeCounts();
    const response = await call();
    expect(response.status).toBe(status);
    expect(response.contentType).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status, code, type: `/problems/${code}` });
    expect(await storeCounts()).toEqual(before);
  });

  it('a closed conversation refuses new messages with 409', async () => {
    const closed = await alice.closeConversation(conversationId, 'resolved');
    expect(closed).toMatchObject({ status: 'closed', closedReason: 'resolved' });
    const before = await storeCounts();
    await expect(alice.sendMessage(conversationId, 'hi')).rejects.toMatchObject({
      name: 'GatewayError',
      status: 409,
      code: 'conversation-closed',
    });
    expect(await storeCounts()).toEqual(before);
  });
});

describe('tenant isolation', () => {
  it("another tenant's key sees nothing of a conversation, over REST or the WebSocket", async () => {
    const conversationId = await openConversation();
    for (const path of [
      `/v1/conversations/${conversationId}`,
      `/v1/conversations/${conversationId}/events`,
    ]) {
      const response = await mallory.request('GET', path);
      expect(response.status).toBe(404);
      expect(JSON.stringify(response.body)).not.toContain('acme');
    }
    const close = await mallory.request('POST', `/v1/conversations/${conversationId}/close`, { json: {} });
    expect(close.status).toBe(404);

    const spy = await mallory.connect();
    await expect(spy.subscribe(conversationId, { afterSequence: 0 })).rejects.toMatchObject({
      status: 404,
      code: 'conversation-not-found',
    });
    expect(spy.frames).toEqual([expect.objectContaining({ type: 'error', conversationId })]);

    const watcher = await subscribed(conversationId);
    const { messageId } = await alice.sendMessage(conversationId, 'Do you have the kettle in white?');
    await watcher.waitForTurnEnd(messageId);
    expect(spy.events()).toHaveLength(0);
    expect(spy.frames.filter((frame) => frame.type !== 'error')).toHaveLength(0);
    spy.close();
    watcher.close();
  });
});

describe('the WebSocket and the API document', () => {
  it('refuses an upgrade without a valid key, and accepts the key as ?api_key= for browsers', async () => {
    const wsUrl = alice.wsUrl;
    await expect(GatewaySocket.open(wsUrl, null)).rejects.toMatchObject({ status: 401 });
    await expect(GatewaySocket.open(`${wsUrl}?api_key=cek_forged`, null)).rejects.toMatchObject({
      status: 401,
    });
    await expect(
      GatewaySocket.open(wsUrl.replace(/\/ws$/, '/elsewhere'), alice.apiKey),
    ).rejects.toMatchObject({ status: 404 });

    const browser = await GatewaySocket.open(
      `${wsUrl}?api_key=${encodeURIComponent(alice.apiKey ?? '')}`,
      null,
    );
    browser.send({ type: 'ping' });
    await browser.waitFor((frame) => frame.type === 'pong');
    expect(browser.frames).toEqual([{ type: 'pong' }]);
    browser.close();
  });

  it('answers a malformed frame with an error frame and keeps the connection', async () => {
    const socket = await alice.connect();
    socket.sendRaw('not json');
    socket.sendRaw(JSON.stringify({ type: 'subscribe', conversationId: 'not-a-uuid' }));
    socket.send({ type: 'ping' });
    await socket.waitFor((frame) => frame.type === 'pong');
    expect(socket.frames.filter((frame) => frame.type === 'error')).toEqual([
      expect.objectContaining({ code: 'validation-failed' }),
      expect.objectContaining({ code: 'validation-failed' }),
    ]);
    socket.close();
  });

  it('serves the OpenAPI document, which names every route', async () => {
    const response = await fetch(`${services.url('gateway')}/docs/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/conversations',
        '/v1/conversations/{id}',
        '/v1/conversations/{id}/messages',
        '/v1/conversations/{id}/events',
      ]),
    );
  });
});

describe('failures mid-turn', () => {
  it('inference killed while streaming: the turn completes once after restart, nothing lost', async () => {
    const conversationId = await openConversation();
    const socket = await subscribed(conversationId);
    // A reply that is surely long (capped by REPLY_MAX_TOKENS), so the kill lands mid-stream.
    // The crash comes the instant the first chunk reaches the frontend, from inside the frame handler.
    const isChunk = (frame: ServerFrame) =>
      frame.type === 'event' && frame.event.type === 'conversation.reply-chunk-generated.v1';
    const crashed = new Promise<void>((resolve) => {
      const stop = socket.onFrame(({ frame }) => {
        if (!isChunk(frame)) return;
        stop(); // once: the restarted instance streams chunks too
        resolve(services.kill('inference'));
      });
    });
    const { messageId } = await alice.sendMessage(
      conversationId,
      'Count from 1 to 300, one number per line.',
    );
    const firstChunk = await socket.waitForEvent('conversation.reply-chunk-generated.v1');
    await crashed;
    const completedBeforeKill = socket
      .events(conversationId)
      .some((event) => event.type === 'conversation.reply-completed.v2');
    services.start('inference');
    await services.waitReady('inference');
    expect(completedBeforeKill).toBe(false); // the kill really landed mid-turn
    const done = await socket.waitForReply(messageId, { timeoutMs: 180_000 }); // rejects if the turn failed
    expect(done.data.turnId).toBe(firstChunk.data.turnId);
    expect(done.data.attempt).toBe(2);

    const events = await storedEvents(conversationId);
    expect(completions(events, done.data.turnId)).toHaveLength(1);
    expect(
      socket.events(conversationId).filter((event) => event.type === 'conversation.reply-completed.v2'),
    ).toHaveLength(1);
    // The second attempt's chunks add up to the reply; the first attempt's partial chunks stay in the record.
    const secondAttempt = events.filter(
      (event) => event.type === 'conversation.reply-chunk-generated.v1' && event.data.attempt === 2,
    );
    expect(secondAttempt.map((event) => (event.data as { text: string }).text).join('')).toBe(done.data.text);
    socket.close();
  });

  it('sessions killed right after a message is accepted: the reply still comes, once', async () => {
    const conversationId = await openConversation();
    const socket = await subscribed(conversationId);
    const { messageId } = await alice.sendMessage(conversationId, 'What are your opening hours?');
    await services.kill('sessions');
    services.start('sessions');
    await services.waitReady('sessions');
    const done = await socket.waitForReply(messageId, { timeoutMs: 180_000 }); // rejects if the turn failed
    const events = await storedEvents(conversationId);
    expect(events.filter((event) => event.type === 'conversation.reply-requested.v1')).toHaveLength(1);
    expect(completions(events, done.data.turnId)).toHaveLength(1);
    socket.close();
  });

  it('a duplicate delivery of every event of a turn has no second effect', async () => {
    const conversationId = await openConversation();
    const socket = await subscribed(conversationId);
    const { messageId: first } = await alice.sendMessage(conversationId, 'Hello!');
    await socket.waitForTurnEnd(first);
    await knowledgeRetrievedFor(socket, first);
    const before = await storedEvents(conversationId);

    // Publish the whole stream again, as a relay that crashed before deleting its outbox rows would.
    const kafka = createKafka(
      { brokers, clientId: 'e2e-duplicator', topicPrefix: prefix },
      createLogger('e2e', 'warn'),
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topicName(prefix, TOPICS.conversationEvents),
      messages: before.map((event) => ({ key: event.conversationId, value: JSON.stringify(event) })),
    });
    await producer.disconnect();

    // Same key, same partition: once the next turn is answered, every consumer has passed the duplicates.
    const { messageId: second } = await alice.sendMessage(conversationId, 'Thanks, bye.');
    await socket.waitForTurnEnd(second);
    await knowledgeRetrievedFor(socket, second);
    const after = await storedEvents(conversationId);
    const chunksOf = (events: ConversationEvent[]) =>
      events.filter((event) => event.type === 'conversation.reply-chunk-generated.v1').length;
    const turnEvents = (events: ConversationEvent[]) =>
      events
        .filter((event) => event.type !== 'conversation.reply-chunk-generated.v1')
        .map((event) => event.type);
    expect(turnEvents(after).slice(0, before.length - chunksOf(before))).toEqual(turnEvents(before));
    // The second turn, each fact exactly once, in whatever order its parallel steps raced: the message, its
    // classification (asked and answered), the intent, retrieval's knowledge (the first turn's may land late
    // too, if its wait ran out first), perhaps the knowledge wait running out, then the reply.
    const secondTurn = turnEvents(after).slice(before.length - chunksOf(before));
    const count = (type: string) => secondTurn.filter((candidate) => candidate === type).length;
    for (const once of [
      'conversation.message-received.v1',
      'conversation.model-task-requested.v1',
      'conversation.model-task-completed.v1',
      'conversation.intent-resolved.v1',
      'conversation.reply-requested.v1',
      'conversation.reply-completed.v2',
    ]) {
      expect([once, count(once)]).toEqual([once, 1]);
    }
    expect(count('conversation.knowledge-retrieved.v1')).toBeGreaterThanOrEqual(1);
    expect(count('conversation.knowledge-retrieved.v1')).toBeLessThanOrEqual(2);
    expect(count('conversation.knowledge-wait-expired.v1')).toBeLessThanOrEqual(1);
    expect(secondTurn.length).toBe(
      6 + count('conversation.knowledge-retrieved.v1') + count('conversation.knowledge-wait-expired.v1'),
    );
    const delivered = socket.events(conversationId).map((event) => event.eventId);
    expect(new Set(delivered).size).toBe(delivered.length);
    socket.close();
  });
});
