import pino from 'pino';
import { modelBackend, ModelBackends } from '../backends';
import type { PendingEvent } from '@contracts';
import { ContentFilter, REPLACED_REPLY } from '@libs/content-filter';
import { derivedId, fold } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import type { AppendTarget, ContentFilterLists, ConversationStreams, EventStore } from '@libs/event-store';
import { Metrics } from '@libs/platform';
import {
  ModelCallError,
  type ChatMessage,
  type Completion,
  type LlmClient,
  type StreamPart,
} from '../llm.client';
import { CONTINUE_INSTRUCTION } from './continuation';
import { GenerateReplyCommand } from './generate-reply.command';
import { GenerateReplyHandler, type GenerationSettings } from './generate-reply.handler';
import { InferenceMetrics } from '../inference.metrics';

type Appended = { target: AppendTarget; event: PendingEvent };

/** A model that plays a script, or fails the way a real endpoint does. */
class ScriptedModel implements LlmClient {
  calls: ChatMessage[][] = [];

  constructor(
    private readonly behaviour: (signal: AbortSignal) => AsyncIterable<StreamPart>,
    readonly model = 'scripted-model',
  ) {}

  streamChat(messages: ChatMessage[], _maxTokens: number, signal: AbortSignal): AsyncIterable<StreamPart> {
    this.calls.push(messages);
    return this.behaviour(signal);
  }

  complete(): Promise<Completion> {
    return Promise.reject(new Error('replies are streamed'));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

function speaks(...deltas: string[]): (signal: AbortSignal) => AsyncIterable<StreamPart> {
  return async function* () {
    for (const text of deltas) yield { kind: 'delta', text };
    yield { kind: 'done', finishReason: 'stop', promptTokens: 20, completionTokens: deltas.length };
  };
}

const RESILIENCE = { breakerFailures: 3, breakerHalfOpenMs: 60_000, retries: 2, retryBaseMs: 1 };

function setup(
  given: ConversationStreamBuilder,
  model: ScriptedModel,
  settings: Partial<GenerationSettings> = {},
  /** Another writer, acting after each of our appends. */
  afterAppend: (appended: Appended[]) => void = () => undefined,
  fallback: ScriptedModel | null = null,
  /** The tenant's word list. */
  filter: ContentFilter = ContentFilter.build([]),
) {
  const appended: Appended[] = [];
  const streams = { load: () => Promise.resolve(fold(given.events)) } as unknown as ConversationStreams;
  const store = {
    append: (target: AppendTarget, events: PendingEvent[]) => {
      appended.push(...events.map((event) => ({ target, event })));
      afterAppend(appended);
      return Promise.resolve({
        status: 'appended',
        events: [],
        version: given.events.length + appended.length,
      });
    },
  } as unknown as EventStore;
  const handler = new GenerateReplyHandler(
    streams,
    store,
    new ModelBackends(
      modelBackend('primary', model, { slots: 4, maxQueuedPerTenant: 10 }, RESILIENCE),
      fallback && modelBackend('fallback', fallback, { slots: 2, maxQueuedPerTenant: 10 }, RESILIENCE),
    ),
    {
      timeoutMs: 5_000,
      firstTokenTimeoutMs: 5_000,
      stallTimeoutMs: 5_000,
      chunkFlushMs: 60_000,
      chunkMaxChars: 8,
      ...settings,
    },
    new InferenceMetrics(new Metrics('inference-test')),
    pino({ level: 'silent' }),
    { filterOf: () => Promise.resolve(filter) } as unknown as ContentFilterLists,
  );
  return { handler, appended };
}

function openTurn() {
  const given = new ConversationStreamBuilder();
  given.started();
  const message = given.message('Where is my parcel?');
  const request = given.replyRequested([message.data.messageId]);
  return { given, request, turnId: request.data.turnId };
}

describe('GenerateReplyHandler', () => {
  it('streams batched chunks, then one completion whose text is the chunks joined', async () => {
    const { given, request, turnId } = openTurn();
    const { handler, appended } = setup(
      given,
      new ScriptedModel(speaks('Your ', 'parcel ', 'arrives ', 'today.')),
    );

    await handler.execute(new GenerateReplyCommand(request));

    const chunks = appended.filter(({ event }) => event.type === 'conversation.reply-chunk-generated.v1');
    const outcome = appended.at(-1)?.event;
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(4); // batched: fewer events than tokens
    expect(outcome).toMatchObject({
      eventId: derivedId(turnId, 'completed'),
      type: 'conversation.reply-completed.v2',
      data: {
        turnId,
        attempt: 1,
        text: 'Your parcel arrives today.',
        model: 'scripted-model',
        finishReason: 'stop',
      },
    });
    expect(chunks.map(({ event }) => (event.data as { text: string }).text).join('')).toBe(
      'Your parcel arrives today.',
    );
    expect(chunks.map(({ event }) => (event.data as { chunkIndex: number }).chunkIndex)).toEqual(
      chunks.map((_, index) => index),
    );
    for (const { target } of appended) {
      expect(target).toMatchObject({ causationId: request.eventId, correlationId: request.correlationId });
    }
  });

  it('sends the prompt from the request, unchanged', async () => {
    const { given, request } = openTurn();
    const model = new ScriptedModel(speaks('ok'));
    const { handler } = setup(given, model);

    await handler.execute(new GenerateReplyCommand(request));

    expect(model.calls).toEqual([request.data.prompt]);
  });

  it('does nothing for a turn that is already answered (a redelivered request)', async () => {
    const { given, request, turnId } = openTurn();
    given.replyCompleted(turnId, 'done before');
    const model = new ScriptedModel(speaks('again'));
    const { handler, appended } = setup(given, model);

    await handler.execute(new GenerateReplyCommand(request));

    expect(model.calls).toHaveLength(0);
    expect(appended).toHaveLength(0);
  });

  it('counts up the attempt when an earlier attempt already streamed chunks', async () => {
    const { given, request, turnId } = openTurn();
    given.chunk(turnId, 1, 0, 'Your par');
    const { handler, appended } = setup(given, new ScriptedModel(speaks('Fresh start.')));

    await handler.execute(new GenerateReplyCommand(request));

    expect(appended.every(({ event }) => (event.data as { attempt: number }).attempt === 2)).toBe(true);
    expect(appended[0]?.event.eventId).toBe(derivedId(turnId, 'chunk', '2', '0'));
    expect(appended.at(-1)?.event.eventId).toBe(derivedId(turnId, 'completed'));
  });

  it('stops generating, and appends no completion, when the conversation is closed mid-reply', async () => {
    const { given, request } = openTurn();
    let generated = 0;
    const chatty = new ScriptedModel(async function* (signal) {
      for (; generated < 1_000; generated++) {
        if (signal.aborted) throw signal.reason;
        yield { kind: 'delta', text: 'word ' };
        await new Promise((resolve) => setImmediate(resolve));
      }
      yield { kind: 'done', finishReason: 'length', promptTokens: 1, completionTokens: generated };
    });
    const { handler, appended } = setup(given, chatty, {}, (ours) => {
      if (ours.length === 1) given.closed('customer-left');
    });

    await handler.execute(new GenerateReplyCommand(request));

    expect(generated).toBeLessThan(1_000);
    expect(appended.map(({ event }) => event.type)).not.toContain('conversation.reply-completed.v2');
    expect(appended.map(({ event }) => event.type)).not.toContain('conversation.reply-failed.v1');
  });

  it('rethrows when a chunk cannot be stored, so the request is delivered again', async () => {
    const { given, request } = openTurn();
    const { handler } = setup(given, new ScriptedModel(speaks('a', 'b', 'c')), {}, () => {
      throw new Error('connection terminated');
    });

    await expect(handler.execute(new GenerateReplyCommand(request))).rejects.toThrow('connection terminated');
  });

  it('turns a model slower than the deadline into reply-failed model-timeout', async () => {
    const { given, request, turnId } = openTurn();
    const hangs = new ScriptedModel(async function* (signal) {
      yield { kind: 'delta', text: 'Hel' };
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted', { cause: signal.reason }))),
      );
    });
    const { handler, appended } = setup(given, hangs, { timeoutMs: 50 });

    await handler.execute(new GenerateReplyCommand(request));

    expect(appended.at(-1)?.event).toMatchObject({
      eventId: derivedId(turnId, 'failed'),
      type: 'conversation.reply-failed.v1',
      data: { turnId, attempt: 1, code: 'model-timeout' },
    });
  });

  it('turns a model that sends no first token in time into model-timeout, long before the whole-reply deadline', async () => {
    const { given, request } = openTurn();
    const silent = new ScriptedModel(async function* (signal) {
      yield* [];
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted', { cause: signal.reason }))),
      );
    });
    const { handler, appended } = setup(given, silent, { timeoutMs: 60_000, firstTokenTimeoutMs: 50 });

    await handler.execute(new GenerateReplyCommand(request));

    expect(appended.at(-1)?.event).toMatchObject({
      type: 'conversation.reply-failed.v1',
      data: { code: 'model-timeout', message: 'aborted' },
    });
  });

  it('reports an unreachable endpoint as model-unavailable', async () => {
    const { given, request } = openTurn();
    const refused = new ScriptedModel(async function* () {
      yield* [];
      throw new Error('connect ECONNREFUSED 127.0.0.1:18080');
    });
    const { handler, appended } = setup(given, refused);

    await handler.execute(new GenerateReplyCommand(request));

    expect(appended.at(-1)?.event).toMatchObject({
      type: 'conversation.reply-failed.v1',
      data: { code: 'model-unavailable' },
    });
  });

  it('treats a stream that ends without finishing as a model error', async () => {
    const { given, request } = openTurn();
    const truncated = new ScriptedModel(async function* () {
      yield { kind: 'delta', text: 'Half a sen' };
    });
    const { handler, appended } = setup(given, truncated);

    await handler.execute(new GenerateReplyCommand(request));

    expect(appended.at(-1)?.event).toMatchObject({
      type: 'conversation.reply-failed.v1',
      data: { code: 'model-error' },
    });
  });
});

/** Yields `deltas`, then fails like a backend does. */
function failsAfter(
  error: () => Error,
  ...deltas: string[]
): (signal: AbortSignal) => AsyncIterable<StreamPart> {
  return async function* () {
    for (const text of deltas) yield { kind: 'delta', text };
    throw error();
  };
}

function hangsAfter(...deltas: string[]): (signal: AbortSignal) => AsyncIterable<StreamPart> {
  return async function* (signal) {
    for (const text of deltas) yield { kind: 'delta', text };
    await new Promise((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error('aborted', { cause: signal.reason }))),
    );
  };
}

const refused = () => new ModelCallError('connection', 'connect ECONNREFUSED 127.0.0.1:18080');
const reset = () => new ModelCallError('connection', 'terminated');
const serverError = () => new ModelCallError('server', '500 Internal Server Error');

function eventsOf(appended: Appended[], type: string) {
  return appended.filter(({ event }) => event.type === type).map(({ event }) => event);
}

function chunkText(appended: Appended[]): string {
  return eventsOf(appended, 'conversation.reply-chunk-generated.v1')
    .map((event) => (event.data as { text: string }).text)
    .join('');
}

describe('GenerateReplyHandler with a fallback backend', () => {
  it('retries a refused primary with backoff, then answers from the fallback, with one switch event', async () => {
    const { given, request, turnId } = openTurn();
    const primary = new ScriptedModel(failsAfter(refused), 'primary-model');
    const fallback = new ScriptedModel(speaks('Your ', 'parcel ', 'arrives.'), 'fallback-model');
    const { handler, appended } = setup(given, primary, {}, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request));

    expect(primary.calls).toHaveLength(1 + RESILIENCE.retries);
    expect(fallback.calls).toEqual([request.data.prompt]); // nothing delivered: the plain prompt
    const switches = eventsOf(appended, 'conversation.reply-backend-switched.v1');
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({
      data: {
        turnId,
        from: { backend: 'primary', model: 'primary-model' },
        to: { backend: 'fallback', model: 'fallback-model' },
        reason: 'connection-error',
        deliveredChars: 0,
      },
    });
    expect(appended.at(-1)?.event).toMatchObject({
      type: 'conversation.reply-completed.v2',
      data: {
        text: 'Your parcel arrives.',
        model: 'fallback-model',
        parts: [{ backend: 'fallback', model: 'fallback-model', start: 0, end: 20 }],
      },
    });
  });

  it('continues a stream the primary dropped halfway from the delivered text, repeating none of it', async () => {
    const { given, request } = openTurn();
    const primary = new ScriptedModel(failsAfter(reset, 'Your ', 'parcel ', 'left '), 'primary-model');
    // Models asked to continue often restate what they were given: none of it may reach the customer twice.
    const fallback = new ScriptedModel(
      speaks('Your parcel ', 'left ', 'the depot ', 'today.'),
      'fallback-model',
    );
    const { handler, appended } = setup(given, primary, {}, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request));

    expect(primary.calls).toHaveLength(1); // text was delivered: no retry from scratch
    expect(fallback.calls[0]?.slice(-2)).toEqual([
      { role: 'assistant', content: 'Your parcel left ' },
      { role: 'user', content: CONTINUE_INSTRUCTION },
    ]);
    const types = appended.map(({ event }) => event.type);
    const switchAt = types.indexOf('conversation.reply-backend-switched.v1');
    expect(types.filter((type) => type === 'conversation.reply-backend-switched.v1')).toHaveLength(1);
    expect(chunkText(appended.slice(0, switchAt))).toBe('Your parcel left ');
    expect(appended[switchAt]?.event.data).toMatchObject({ reason: 'connection-error', deliveredChars: 17 });
    expect(chunkText(appended)).toBe('Your parcel left the depot today.');
    expect(appended.at(-1)?.event).toMatchObject({
      type: 'conversation.reply-completed.v2',
      data: {
        text: 'Your parcel left the depot today.',
        parts: [
          { backend: 'primary', model: 'primary-model', start: 0, end: 17 },
          { backend: 'fallback', model: 'fallback-model', start: 17, end: 33 },
        ],
      },
    });
  });

  it('moves a stream that stalls halfway to the fallback after the stall deadline', async () => {
    const { given, request } = openTurn();
    const primary = new ScriptedModel(hangsAfter('Hel'));
    const fallback = new ScriptedModel(speaks('lo!'));
    const { handler, appended } = setup(given, primary, { stallTimeoutMs: 50 }, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request));

    expect(eventsOf(appended, 'conversation.reply-backend-switched.v1')).toMatchObject([
      { data: { reason: 'stalled', deliveredChars: 3 } },
    ]);
    expect(appended.at(-1)?.event).toMatchObject({ data: { text: 'Hello!' } });
  });

  it('moves on at once, without retrying, when the primary misses the first-token deadline', async () => {
    const { given, request } = openTurn();
    const primary = new ScriptedModel(hangsAfter());
    const fallback = new ScriptedModel(speaks('Hi.'));
    const { handler, appended } = setup(given, primary, { firstTokenTimeoutMs: 50 }, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request));

    expect(primary.calls).toHaveLength(1);
    expect(eventsOf(appended, 'conversation.reply-backend-switched.v1')).toMatchObject([
      { data: { reason: 'first-token-timeout', deliveredChars: 0 } },
    ]);
    expect(appended.at(-1)?.event).toMatchObject({ data: { text: 'Hi.' } });
  });

  it('opens the primary breaker after repeated 5xx, so later turns go straight to the fallback', async () => {
    const { given, request } = openTurn();
    const primary = new ScriptedModel(failsAfter(serverError));
    const fallback = new ScriptedModel(speaks('Hi.'));
    const { handler, appended } = setup(given, primary, {}, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request)); // 3 faults: the breaker opens
    await handler.execute(new GenerateReplyCommand(request));

    expect(primary.calls).toHaveLength(RESILIENCE.breakerFailures);
    expect(
      eventsOf(appended, 'conversation.reply-backend-switched.v1').map(
        (event) => (event.data as { reason: string }).reason,
      ),
    ).toEqual(['server-error', 'circuit-open']);
  });

  it('does not switch on a request the primary rejects (4xx): another backend would refuse it too', async () => {
    const { given, request } = openTurn();
    const primary = new ScriptedModel(
      failsAfter(() => new ModelCallError('rejected', '400 context too long')),
    );
    const fallback = new ScriptedModel(speaks('Hi.'));
    const { handler, appended } = setup(given, primary, {}, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request));

    expect(fallback.calls).toHaveLength(0);
    expect(appended.map(({ event }) => event.type)).toEqual(['conversation.reply-failed.v1']);
    expect(appended[0]?.event.data).toMatchObject({ code: 'model-error' });
  });

  it('fails the turn when the fallback fails too, after exactly one switch', async () => {
    const { given, request } = openTurn();
    const primary = new ScriptedModel(failsAfter(reset, 'Hel'));
    const fallback = new ScriptedModel(failsAfter(refused));
    const { handler, appended } = setup(given, primary, {}, undefined, fallback);

    await handler.execute(new GenerateReplyCommand(request));

    expect(eventsOf(appended, 'conversation.reply-backend-switched.v1')).toHaveLength(1);
    expect(appended.at(-1)?.event).toMatchObject({
      type: 'conversation.reply-failed.v1',
      data: { code: 'model-unavailable' },
    });
  });
});

describe('GenerateReplyHandler with the tenant’s word list', () => {
  const filter = ContentFilter.build(
    [
      { word: '加微信', category: 'contact-diversion' },
      { word: 'secret deal', category: 'fraud' },
      { word: '刷单返利', category: 'politics' },
    ],
    { 'contact-diversion': 'mask', fraud: 'handoff', politics: 'block' },
  );
  const textOf = (appended: Appended[], type: string) =>
    appended
      .filter(({ event }) => event.type === type)
      .map(({ event }) => (event.data as { text: string }).text);

  it('masks a listed word the model spells out across tokens, in chunks and completion, and flags it', async () => {
    const { given, request, turnId } = openTurn();
    const { handler, appended } = setup(
      given,
      new ScriptedModel(speaks('好的，请', '加 ', '微', '.信', '，谢谢。')),
      {},
      () => undefined,
      null,
      filter,
    );

    await handler.execute(new GenerateReplyCommand(request));

    const chunks = textOf(appended, 'conversation.reply-chunk-generated.v1');
    expect(chunks.join('')).toBe('好的，请*****，谢谢。');
    expect(textOf(appended, 'conversation.reply-completed.v2')).toEqual(['好的，请*****，谢谢。']);
    expect(appended.at(-1)?.event).toEqual({
      eventId: derivedId(turnId, 'content-flagged'),
      type: 'conversation.content-flagged.v1',
      data: {
        direction: 'outbound',
        messageId: null,
        turnId,
        action: 'mask',
        categories: ['contact-diversion'],
        matches: 1,
      },
    });
  });

  it('stops a reply mid-stream when a blocked word arrives, never releasing it, and completes with the replacement', async () => {
    const { given, request, turnId } = openTurn();
    let aborted = false;
    const model = new ScriptedModel(async function* (signal) {
      for (const text of ['您好，', '这里可以', '刷', '單', '返', '利', '哦', '，还有更多']) {
        if (signal.aborted) {
          aborted = true;
          throw signal.reason;
        }
        yield { kind: 'delta', text };
      }
      yield { kind: 'done', finishReason: 'stop', promptTokens: 1, completionTokens: 8 };
    });
    const { handler, appended } = setup(given, model, {}, () => undefined, null, filter);

    await handler.execute(new GenerateReplyCommand(request));

    const released = textOf(appended, 'conversation.reply-chunk-generated.v1').join('');
    expect(released).not.toMatch(/[刷單返利]/);
    expect('您好，这里可以'.startsWith(released)).toBe(true);
    expect(aborted).toBe(true);
    const completion = appended.find(({ event }) => event.type === 'conversation.reply-completed.v2');
    expect(completion?.event.data).toMatchObject({
      text: REPLACED_REPLY.block,
      finishReason: 'content_filter',
      parts: [
        { backend: 'content-filter', model: 'content-filter', start: 0, end: REPLACED_REPLY.block.length },
      ],
    });
    expect(appended.at(-1)?.event.data).toMatchObject({
      direction: 'outbound',
      turnId,
      action: 'block',
      categories: ['politics'],
    });
  });

  it('replaces a reply whose last words hand off, found only when the stream ends', async () => {
    const { given, request } = openTurn();
    const { handler, appended } = setup(
      given,
      new ScriptedModel(speaks('It is a ', 'SECRET', '-deal')),
      {},
      () => undefined,
      null,
      filter,
    );

    await handler.execute(new GenerateReplyCommand(request));

    expect(textOf(appended, 'conversation.reply-chunk-generated.v1').join('')).not.toMatch(/secret|deal/i);
    expect(textOf(appended, 'conversation.reply-completed.v2')).toEqual([REPLACED_REPLY.handoff]);
    expect(appended.at(-1)?.event.data).toMatchObject({ action: 'handoff', categories: ['fraud'] });
  });
});
