import pino from 'pino';
import { ModelDispatcher } from '../dispatch';
import type { EventData, EventOfType, IntentDefinition, ModelTaskInput } from '@contracts';
import { DerivedIds, modelTaskCompleted } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { ConversationStreams, InMemoryEventStore, TenantSettingsStreams } from '@libs/event-store';
import type { Embeddings } from '@libs/embeddings';
import { IntentFastPath } from '@libs/intents';
import { DEFAULT_INTENTS } from '@libs/tenant-settings';
import type { ChatMessage, CompleteOptions, Completion, LlmClient } from '../llm.client';
import { RunModelTaskCommand } from './run-model-task.command';
import { RunModelTaskHandler } from './run-model-task.handler';

/** Embeddings that place each text where the test says: texts mentioning an axis word point along it. */
class ScriptedEmbeddings implements Embeddings {
  readonly model = 'scripted-e5';
  embedded: string[] = [];

  constructor(private readonly axes: string[]) {}

  embedQueries(texts: readonly string[]): Promise<number[][]> {
    this.embedded.push(...texts);
    return Promise.resolve(texts.map((text) => this.vectorOf(text)));
  }

  private vectorOf(text: string): number[] {
    // A small shared component keeps cosines high and close together, as real e5 vectors are.
    return this.axes.map((axis) => (text.includes(axis) ? 1 : 0) + 0.05);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

/** A model that answers by a script, recording what it was asked. */
class ScriptedModel implements LlmClient {
  readonly model = 'scripted-llm';
  calls: { messages: ChatMessage[]; options: CompleteOptions }[] = [];

  constructor(private readonly answer: (signal: AbortSignal) => Promise<string>) {}

  streamChat(): AsyncIterable<never> {
    throw new Error('tasks are not streamed');
  }

  async complete(
    messages: ChatMessage[],
    options: CompleteOptions,
    signal: AbortSignal,
  ): Promise<Completion> {
    this.calls.push({ messages, options });
    const text = await this.answer(signal);
    return { text, finishReason: 'stop', promptTokens: 10, completionTokens: 5 };
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

function answers(text: string): (signal: AbortSignal) => Promise<string> {
  return () => Promise.resolve(text);
}

const INTENTS: IntentDefinition[] = [
  intent('order_status', ['parcel where', 'parcel late']),
  intent('refund', ['refund money', 'refund please']),
  intent('greeting', ['hello there']),
  intent('other', []),
];

function intent(name: string, examples: string[]): IntentDefinition {
  return { name, description: `about ${name}`, examples, slots: [], handoff: false };
}

async function setup(model: ScriptedModel, options: { timeoutMs?: number } = {}) {
  const store = new InMemoryEventStore();
  const tenantSettings = new TenantSettingsStreams(store);
  const embeddings = new ScriptedEmbeddings(['parcel', 'refund', 'hello']);
  const handler = new RunModelTaskHandler(
    store,
    new ConversationStreams(store),
    tenantSettings,
    model,
    new IntentFastPath(embeddings),
    new ModelDispatcher({ slots: 2, maxQueuedPerTenant: 10 }),
    { timeoutMs: options.timeoutMs ?? 5_000 },
    pino({ level: 'silent' }),
  );
  const given = new ConversationStreamBuilder();
  const started = given.started();
  // A customer message: the conversation is answering, where the bot asks for model work.
  store.seed('conversation', [started, given.message('hello')]);
  await tenantSettings.replace(started.tenantId, 'aaaaaaaa-0000-4000-8000-000000000001', {
    intents: INTENTS,
    fastPathMinConfidence: 0.75,
  });
  let tasks = 0;
  const stream = { tenantId: started.tenantId, streamId: started.conversationId };
  /** A task as sessions stores it (inference only works on requests that are in the stream). */
  const request = async (task: ModelTaskInput, configVersion = 1) => {
    const taskId = `bbbbbbbb-0000-4000-8000-${String(++tasks).padStart(12, '0')}`;
    const result = await store.append(
      { ...stream, kind: 'conversation', causationId: null, correlationId: taskId, expectedVersion: 'any' },
      [
        {
          eventId: DerivedIds.modelTaskRequested(taskId),
          type: 'conversation.model-task-requested.v1',
          data: { taskId, messageId: null, configVersion, task },
        },
      ],
    );
    if (result.status !== 'appended') throw new Error('the request was not stored');
    return result.events[0] as EventOfType<'conversation.model-task-requested.v1'>;
  };
  const outcomes = async () =>
    (await store.read('conversation', stream)).filter(
      (event) =>
        event.type === 'conversation.model-task-completed.v1' ||
        event.type === 'conversation.model-task-failed.v1',
    );
  return {
    handler,
    embeddings,
    store,
    stream,
    request,
    outcomes,
    tenantSettings,
    tenantId: started.tenantId,
  };
}

function classify(text: string): ModelTaskInput {
  return { kind: 'classify-intent', text };
}

describe('RunModelTaskHandler', () => {
  describe('classify-intent', () => {
    it('answers from the embeddings when one intent is clearly nearest, without calling the model', async () => {
      const model = new ScriptedModel(answers('{"label":"refund"}'));
      const { handler, request, outcomes } = await setup(model);
      const task = await request(classify('my parcel is late'));

      await handler.execute(new RunModelTaskCommand(task));

      expect(model.calls).toHaveLength(0);
      expect(await outcomes()).toEqual([
        expect.objectContaining({
          eventId: DerivedIds.modelTaskCompleted(task.data.taskId),
          type: 'conversation.model-task-completed.v1',
          causationId: task.eventId,
          correlationId: task.correlationId,
          data: expect.objectContaining({
            taskId: task.data.taskId,
            model: 'scripted-e5',
            result: expect.objectContaining({ kind: 'classify-intent', label: 'order_status', path: 'fast' }),
          }),
        }),
      ]);
      const result = completedResult(await outcomes());
      expect(result.kind === 'classify-intent' && result.confidence).toBeGreaterThanOrEqual(0.75);
    });

    it('asks the model, constrained to the label set, when the embeddings are not confident', async () => {
      const model = new ScriptedModel(answers('{"label":"greeting"}'));
      const { handler, request, outcomes } = await setup(model);

      await handler.execute(new RunModelTaskCommand(await request(classify('good day to you'))));

      expect(model.calls).toHaveLength(1);
      expect(model.calls[0]?.options.jsonSchema?.schema).toEqual({
        type: 'object',
        properties: { label: { type: 'string', enum: ['order_status', 'refund', 'greeting', 'other'] } },
        required: ['label'],
        additionalProperties: false,
      });
      expect(model.calls[0]?.messages.at(-1)).toEqual({ role: 'user', content: 'good day to you' });
      expect(completedResult(await outcomes())).toMatchObject({ label: 'greeting', path: 'llm' });
      expect((await outcomes())[0]?.data).toMatchObject({ model: 'scripted-llm' });
    });

    it('records invalid-output when the model answers a label outside the set', async () => {
      const model = new ScriptedModel(answers('{"label":"weather"}'));
      const { handler, request, outcomes } = await setup(model);
      const task = await request(classify('good day to you'));

      await handler.execute(new RunModelTaskCommand(task));

      expect(await outcomes()).toEqual([
        expect.objectContaining({
          eventId: DerivedIds.modelTaskFailed(task.data.taskId),
          type: 'conversation.model-task-failed.v1',
          data: expect.objectContaining({ kind: 'classify-intent', code: 'invalid-output' }),
        }),
      ]);
    });

    it('uses the intents of the request’s settings version, and the defaults at version 0', async () => {
      const model = new ScriptedModel(answers('{"label":"other"}'));
      const { handler, request, outcomes, tenantSettings, tenantId } = await setup(model);
      await tenantSettings.replace(tenantId, 'aaaaaaaa-0000-4000-8000-000000000002', {
        intents: [intent('shipping', ['parcel']), intent('billing', ['refund'])],
      });

      await handler.execute(new RunModelTaskCommand(await request(classify('where is my parcel'), 1)));
      await handler.execute(new RunModelTaskCommand(await request(classify('where is my parcel'), 2)));
      await handler.execute(new RunModelTaskCommand(await request(classify('where is my parcel'), 0)));

      const labels = (await outcomes()).map((event) => {
        const result = completedResult([event]);
        return result.kind === 'classify-intent' ? result.label : null;
      });
      expect(labels[0]).toBe('order_status');
      expect(labels[1]).toBe('shipping');
      expect(DEFAULT_INTENTS.map((each) => each.name)).toContain(labels[2]);
    });

    it('embeds a settings version’s examples once, however many messages it classifies', async () => {
      const model = new ScriptedModel(answers('{"label":"other"}'));
      const { handler, request, embeddings } = await setup(model);

      await handler.execute(new RunModelTaskCommand(await request(classify('parcel late again'))));
      await handler.execute(new RunModelTaskCommand(await request(classify('refund now'))));

      expect(embeddings.embedded.filter((text) => text === 'parcel where')).toHaveLength(1);
    });

    it('records one outcome however often the request is delivered', async () => {
      const model = new ScriptedModel(answers('{"label":"other"}'));
      const { handler, request, outcomes, embeddings } = await setup(model);
      const task = await request(classify('my parcel is late'));

      await handler.execute(new RunModelTaskCommand(task));
      const embeddedOnce = embeddings.embedded.length;
      await handler.execute(new RunModelTaskCommand(task));

      expect(await outcomes()).toHaveLength(1);
      expect(embeddings.embedded).toHaveLength(embeddedOnce); // the redelivery did no work
    });

    it('leaves alone a task sessions already settled (its fast path classified the message)', async () => {
      const model = new ScriptedModel(answers('{"label":"other"}'));
      const { handler, request, outcomes, store, stream, embeddings } = await setup(model);
      const task = await request(classify('good day to you'));
      const settled = modelTaskCompleted({
        taskId: task.data.taskId,
        model: 'sessions-e5',
        result: { kind: 'classify-intent', label: 'greeting', confidence: 0.9, path: 'fast', candidates: [] },
        timings: { totalMs: 3 },
      });
      await store.append(
        {
          ...stream,
          kind: 'conversation',
          causationId: task.eventId,
          correlationId: task.correlationId,
          expectedVersion: 'any',
        },
        [settled],
      );

      await handler.execute(new RunModelTaskCommand(task));

      expect(model.calls).toHaveLength(0);
      expect(embeddings.embedded).toHaveLength(0);
      expect((await outcomes()).map((event) => event.data)).toEqual([settled.data]);
    });
  });

  describe('extract-slots', () => {
    const task: ModelTaskInput = {
      kind: 'extract-slots',
      text: '订单 E20261130123456 昨天收到的，坏了，想退款 35.5 元',
      intent: 'refund',
      slots: [
        { name: 'order_id', type: 'order_id' },
        { name: 'reason', type: 'text', description: 'why' },
        { name: 'amount', type: 'amount' },
        { name: 'received_on', type: 'date' },
        { name: 'email', type: 'email' },
      ],
      referenceTime: '2026-03-10T09:00:00+08:00',
      locale: 'zh-CN',
    };

    it('asks for JSON with every slot, null allowed, and the reference time in the prompt', async () => {
      const model = new ScriptedModel(
        answers(
          '{"order_id":"E20261130123456","reason":"坏了","amount":35.5,"received_on":"2026-03-09","email":null}',
        ),
      );
      const { handler, request, outcomes } = await setup(model);

      await handler.execute(new RunModelTaskCommand(await request(task)));

      const schema = model.calls[0]?.options.jsonSchema?.schema;
      expect(schema).toMatchObject({
        required: ['order_id', 'reason', 'amount', 'received_on', 'email'],
        additionalProperties: false,
        properties: { amount: { anyOf: [{ type: 'number' }, { type: 'null' }] } },
      });
      expect(model.calls[0]?.messages[0]?.content).toContain('2026-03-10T09:00:00+08:00');
      expect(completedResult(await outcomes())).toEqual({
        kind: 'extract-slots',
        slots: {
          order_id: 'E20261130123456',
          reason: '坏了',
          amount: 35.5,
          received_on: '2026-03-09',
          email: null,
        },
      });
    });

    it('drops an identifier that is not in the text (an invented order number) and fills absent slots with null', async () => {
      const model = new ScriptedModel(answers('{"order_id":"E20260000000000","reason":"坏了"}'));
      const { handler, request, outcomes } = await setup(model);

      await handler.execute(new RunModelTaskCommand(await request(task)));

      expect(completedResult(await outcomes())).toEqual({
        kind: 'extract-slots',
        slots: { order_id: null, reason: '坏了', amount: null, received_on: null, email: null },
      });
    });

    it.each([
      ['in small letters', 'e20261130123456', 'E20261130123456'],
      ['with words around it', 'Order E20261130123456', null],
      ['two of them', 'E20261130123456 E20261130123457', null],
    ])(
      'keeps an order number only as one whole identifier, in capitals (%s)',
      async (_case, offered, kept) => {
        const model = new ScriptedModel(answers(JSON.stringify({ order_id: offered })));
        const { handler, request, outcomes } = await setup(model);

        await handler.execute(new RunModelTaskCommand(await request(task)));

        expect(completedResult(await outcomes())).toMatchObject({ slots: { order_id: kept } });
      },
    );

    it.each([
      ['the prompt copied back', '2026-03-10T09:00:00.000Z (locale zh-CN)'],
      ['a reply of its own', '没有什么可能的方法，我们可以退款，你可以退款？'],
      ['a translation', 'it arrived broken'],
    ])('drops a free-text value that is not the customer’s words (%s)', async (_case, reason) => {
      const model = new ScriptedModel(answers(JSON.stringify({ reason })));
      const { handler, request, outcomes } = await setup(model);

      await handler.execute(new RunModelTaskCommand(await request(task)));

      expect(completedResult(await outcomes())).toMatchObject({ slots: { reason: null } });
    });

    it('keeps a free-text value taken from the message, whatever its spacing and punctuation', async () => {
      const words = { ...task, text: 'Hi, the zipper broke after two days. Refund please!' };
      const model = new ScriptedModel(
        answers('{"reason":"the Zipper broke after two days","order_id":null}'),
      );
      const { handler, request, outcomes } = await setup(model);

      await handler.execute(new RunModelTaskCommand(await request(words)));

      expect(completedResult(await outcomes())).toMatchObject({
        slots: { reason: 'the Zipper broke after two days' },
      });
    });

    it('records invalid-output for output that is not JSON', async () => {
      const { handler, request, outcomes } = await setup(new ScriptedModel(answers('order E2026')));

      await handler.execute(new RunModelTaskCommand(await request(task)));

      expect((await outcomes())[0]?.data).toMatchObject({ kind: 'extract-slots', code: 'invalid-output' });
    });
  });

  describe('summarize', () => {
    it('records the summary with the sequence it covers', async () => {
      const model = new ScriptedModel(answers('  Customer wants a refund for order E1.  '));
      const { handler, request, outcomes } = await setup(model);

      await handler.execute(
        new RunModelTaskCommand(
          await request({
            kind: 'summarize',
            previousSummary: 'Asked about delivery.',
            transcript: [{ role: 'customer', text: 'refund E1 please' }],
            coversUpToSequence: 7,
          }),
        ),
      );

      expect(model.calls[0]?.messages[1]?.content).toContain('Asked about delivery.');
      expect(completedResult(await outcomes())).toEqual({
        kind: 'summarize',
        summary: 'Customer wants a refund for order E1.',
        coversUpToSequence: 7,
      });
    });
  });

  describe('failures', () => {
    it('records model-timeout when the model misses the deadline', async () => {
      const hangs = new ScriptedModel(
        (signal) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      );
      const { handler, request, outcomes } = await setup(hangs, { timeoutMs: 50 });

      await handler.execute(new RunModelTaskCommand(await request(classify('good day to you'))));

      expect((await outcomes())[0]?.data).toMatchObject({ code: 'model-timeout' });
    });

    it('records model-unavailable when the server cannot be reached', async () => {
      const refused = new ScriptedModel(() =>
        Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:18080')),
      );
      const { handler, request, outcomes } = await setup(refused);

      await handler.execute(new RunModelTaskCommand(await request(classify('good day to you'))));

      expect((await outcomes())[0]?.data).toMatchObject({ code: 'model-unavailable' });
    });
  });
});

type Outcome = Awaited<ReturnType<Awaited<ReturnType<typeof setup>>['outcomes']>>[number];

function completedResult(events: Outcome[]): EventData<'conversation.model-task-completed.v1'>['result'] {
  const [event] = events;
  if (event?.type !== 'conversation.model-task-completed.v1')
    throw new Error(`expected a completed task, got ${JSON.stringify(event)}`);
  return event.data.result;
}
