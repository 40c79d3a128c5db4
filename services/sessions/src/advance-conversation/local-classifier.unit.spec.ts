import pino from 'pino';
import type { IntentDefinition, PendingEvent } from '@contracts';
import { DerivedIds } from '@libs/conversation';
import type { Embeddings } from '@libs/embeddings';
import { IntentFastPath } from '@libs/intents';
import { Metrics } from '@libs/platform';
import { LocalClassifier } from './local-classifier';

/** Texts mentioning an axis word point along it; a small shared part keeps cosines close, as e5's are. */
class ScriptedEmbeddings implements Embeddings {
  readonly model = 'scripted-e5';
  calls = 0;
  failing = false;

  hanging = false;

  embedQueries(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    this.calls++;
    if (this.failing) return Promise.reject(new Error('fetch failed'));
    if (this.hanging)
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason as Error)),
      );
    return Promise.resolve(
      texts.map((text) => ['parcel', 'refund'].map((axis) => (text.includes(axis) ? 1 : 0) + 0.05)),
    );
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

const INTENTS: IntentDefinition[] = [
  { name: 'order_status', description: 'parcels', examples: ['parcel where'], slots: [], handoff: false },
  { name: 'refund', description: 'money back', examples: ['refund please'], slots: [], handoff: false },
];

function classifyRequest(text: string, messageId = 'aaaaaaaa-0000-4000-8000-000000000001'): PendingEvent {
  const taskId = DerivedIds.classifyTask(messageId);
  return {
    eventId: DerivedIds.modelTaskRequested(taskId),
    type: 'conversation.model-task-requested.v1',
    data: { taskId, messageId, configVersion: 3, task: { kind: 'classify-intent', text } },
  };
}

function setup(timeoutMs = 500) {
  const embeddings = new ScriptedEmbeddings();
  const metrics = new Metrics('sessions');
  const classifier = new LocalClassifier(
    new IntentFastPath(embeddings),
    { timeoutMs },
    metrics,
    pino({ level: 'silent' }),
  );
  const counted = async (outcome: string) =>
    (await metrics.registry.getSingleMetric('convo_local_intent_classifications_total')?.get())?.values.find(
      (value) => value.labels['outcome'] === outcome,
    )?.value ?? 0;
  return { embeddings, classifier, counted };
}

describe('LocalClassifier', () => {
  it('settles a confident classification as the completed task, path fast, with the embeddings model', async () => {
    const { classifier, counted } = setup();
    const request = classifyRequest('my parcel is late');

    const settled = await classifier.settle('acme', [request], INTENTS, 0.75);

    expect(settled).toEqual([
      {
        eventId: DerivedIds.modelTaskCompleted(
          DerivedIds.classifyTask('aaaaaaaa-0000-4000-8000-000000000001'),
        ),
        type: 'conversation.model-task-completed.v1',
        data: {
          taskId: DerivedIds.classifyTask('aaaaaaaa-0000-4000-8000-000000000001'),
          result: expect.objectContaining({ kind: 'classify-intent', label: 'order_status', path: 'fast' }),
          model: 'scripted-e5',
          timings: { totalMs: expect.any(Number) },
        },
      },
    ]);
    expect(await counted('decided')).toBe(1);
  });

  it('leaves a message the embeddings are not sure of to inference', async () => {
    const { classifier, counted } = setup();

    expect(await classifier.settle('acme', [classifyRequest('good day')], INTENTS, 0.75)).toEqual([]);
    expect(await counted('deferred')).toBe(1);
  });

  it('leaves the message to inference when the embeddings fail, and counts it', async () => {
    const { classifier, embeddings, counted } = setup();
    embeddings.failing = true;

    expect(await classifier.settle('acme', [classifyRequest('my parcel is late')], INTENTS, 0.75)).toEqual(
      [],
    );
    expect(await counted('failed')).toBe(1);
  });

  it('leaves the message to inference when the embeddings miss the deadline, and counts a timeout', async () => {
    const { classifier, embeddings, counted } = setup(20);
    embeddings.hanging = true;

    expect(await classifier.settle('acme', [classifyRequest('my parcel is late')], INTENTS, 0.75)).toEqual(
      [],
    );
    expect(await counted('timeout')).toBe(1);
    expect(await counted('failed')).toBe(0);
  });

  it('embeds a settings version’s examples when a conversation starts, before its first message', async () => {
    const { classifier, embeddings } = setup();

    classifier.prepare('acme', 3, INTENTS);
    await new Promise((resolve) => setImmediate(resolve));
    expect(embeddings.calls).toBe(1); // the examples, as one batch
    await classifier.settle('acme', [classifyRequest('my parcel is late')], INTENTS, 0.75);

    expect(embeddings.calls).toBe(2); // only the message: the index was ready
  });

  it('classifies a message once when its decision is taken again (a conflicting append)', async () => {
    const { classifier, embeddings, counted } = setup();
    const request = classifyRequest('my parcel is late');

    const first = await classifier.settle('acme', [request], INTENTS, 0.75);
    const again = await classifier.settle('acme', [request], INTENTS, 0.75);

    expect(again).toEqual(first);
    expect(embeddings.calls).toBe(2); // the examples and the message, once each
    expect(await counted('decided')).toBe(1);
    await classifier.settle('globex', [request], INTENTS, 0.75); // another tenant's: its own
    expect(await counted('decided')).toBe(2);
  });

  it('ignores every other decision, and does nothing when switched off', async () => {
    const { classifier, embeddings } = setup();
    const other: PendingEvent = {
      eventId: 'bbbbbbbb-0000-4000-8000-000000000001',
      type: 'conversation.model-task-requested.v1',
      data: {
        taskId: 'bbbbbbbb-0000-4000-8000-000000000002',
        messageId: null,
        configVersion: 3,
        task: { kind: 'summarize', previousSummary: null, transcript: [], coversUpToSequence: 4 },
      },
    };
    expect(await classifier.settle('acme', [other], INTENTS, 0)).toEqual([]);
    expect(embeddings.calls).toBe(0);

    const off = setup(0);
    expect(await off.classifier.settle('acme', [classifyRequest('my parcel is late')], INTENTS, 0)).toEqual(
      [],
    );
    expect(off.embeddings.calls).toBe(0);
  });
});
