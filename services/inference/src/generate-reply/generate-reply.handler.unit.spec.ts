import pino from 'pino';
import { ModelDispatcher } from '../dispatch';
import type { PendingEvent } from '@contracts';
import { derivedId, fold } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import type { AppendTarget, ConversationStreams, EventStore } from '@libs/event-store';
import { Metrics } from '@libs/platform';
import type { ChatMessage, Completion, LlmClient, StreamPart } from '../llm.client';
import { GenerateReplyCommand } from './generate-reply.command';
import { GenerateReplyHandler, type GenerationSettings } from './generate-reply.handler';

type Appended = { target: AppendTarget; event: PendingEvent };

/** A model that plays a script, or fails the way a real endpoint does. */
class ScriptedModel implements LlmClient {
  readonly model = 'scripted-model';
  calls: ChatMessage[][] = [];

  constructor(private readonly behaviour: (signal: AbortSignal) => AsyncIterable<StreamPart>) {}

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

function setup(
  given: ConversationStreamBuilder,
  model: ScriptedModel,
  settings: Partial<GenerationSettings> = {},
  /** Another writer, acting after each of our appends. */
  afterAppend: (appended: Appended[]) => void = () => undefined,
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
    model,
    new ModelDispatcher({ slots: 4, maxQueuedPerTenant: 10 }),
    { timeoutMs: 5_000, firstTokenTimeoutMs: 5_000, chunkFlushMs: 60_000, chunkMaxChars: 8, ...settings },
    new Metrics('inference-test'),
    pino({ level: 'silent' }),
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
      type: 'conversation.reply-completed.v1',
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
    expect(appended.map(({ event }) => event.type)).not.toContain('conversation.reply-completed.v1');
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
