import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { ModelDispatcher } from '../dispatch';
import type { EventData, ModelTaskInput, TenantSettings } from '@contracts';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { Embedder } from '@libs/embeddings';
import { ConversationStreams, InMemoryEventStore, TenantSettingsStreams } from '@libs/event-store';
import { DEFAULT_INTENTS } from '@libs/tenant-settings';
import { OpenAiCompatibleClient } from '../llm.client';
import { IntentFastPath, IntentIndex } from '@libs/intents';
import { RunModelTaskCommand } from './run-model-task.command';
import { RunModelTaskHandler } from './run-model-task.handler';

/** The real model server (llama-server) and embeddings server of the local stack (stack.env). */
function env(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: source ~/.cache/convo-engine/stack.env`);
  return value;
}

const llm = new OpenAiCompatibleClient({
  baseURL: env('LLM_BASE_URL'),
  apiKey: env('LLM_API_KEY'),
  model: env('LLM_MODEL'),
  temperature: 0.3,
});
const embeddings = new Embedder({
  baseUrl: env('EMBEDDINGS_BASE_URL'),
  apiKey: process.env['EMBEDDINGS_API_KEY'] ?? 'none',
  model: env('EMBEDDINGS_MODEL'),
});

async function run(task: ModelTaskInput, settings: TenantSettings) {
  const store = new InMemoryEventStore();
  const tenantSettings = new TenantSettingsStreams(store);
  const given = new ConversationStreamBuilder();
  const started = given.started();
  store.seed('conversation', [started, given.message('hello')]);
  await tenantSettings.replace(started.tenantId, 'aaaaaaaa-0000-4000-8000-000000000001', settings);
  const handler = new RunModelTaskHandler(
    store,
    new ConversationStreams(store),
    tenantSettings,
    llm,
    new IntentFastPath(embeddings),
    new ModelDispatcher({ slots: 2, maxQueuedPerTenant: 10 }),
    { timeoutMs: 60_000 },
    pino({ level: 'silent' }),
  );
  const request = given.event('conversation.model-task-requested.v1', {
    taskId: 'bbbbbbbb-0000-4000-8000-000000000001',
    messageId: null,
    configVersion: 1,
    task,
  });
  store.seed('conversation', [request]); // inference works on requests that are in the stream
  await handler.execute(new RunModelTaskCommand(request));
  const [outcome] = (
    await store.read('conversation', { tenantId: started.tenantId, streamId: started.conversationId })
  ).slice(3);
  if (outcome?.type !== 'conversation.model-task-completed.v1')
    throw new Error(`the task did not complete: ${JSON.stringify(outcome)}`);
  return outcome.data;
}

function intentOf(data: EventData<'conversation.model-task-completed.v1'>) {
  if (data.result.kind !== 'classify-intent') throw new Error('not an intent result');
  return data.result;
}

jest.setTimeout(120_000);

const LABELS = DEFAULT_INTENTS.map((intent) => intent.name);

describe('model tasks against the real model and embeddings servers', () => {
  it('classifies on the embeddings fast path', async () => {
    const data = await run(
      { kind: 'classify-intent', text: '我的快递到哪了？' },
      { fastPathMinConfidence: 0 },
    );

    expect(intentOf(data)).toMatchObject({ path: 'fast', label: 'order_status' });
    expect(data.model).toBe(env('EMBEDDINGS_MODEL'));
  });

  it('falls back to the model, whose output the server constrains to the label set', async () => {
    const data = await run(
      { kind: 'classify-intent', text: 'I would like my money back for the broken kettle' },
      { fastPathMinConfidence: 1 },
    );

    expect(intentOf(data).path).toBe('llm');
    expect(LABELS).toContain(intentOf(data).label);
    expect(data.model).toBe(env('LLM_MODEL'));
  });

  it('extracts slots as JSON of the requested shape, every slot present', async () => {
    const data = await run(
      {
        kind: 'extract-slots',
        text: 'Order E20261130123456 arrived broken yesterday, I paid 35.5 and want a refund',
        intent: 'refund',
        slots: [
          { name: 'order_id', type: 'order_id' },
          { name: 'amount', type: 'amount' },
          { name: 'received_on', type: 'date' },
          { name: 'email', type: 'email' },
        ],
        referenceTime: '2026-03-10T09:00:00+08:00',
        locale: 'en',
      },
      {},
    );

    if (data.result.kind !== 'extract-slots') throw new Error('not a slots result');
    const { slots } = data.result;
    expect(Object.keys(slots).sort()).toEqual(['amount', 'email', 'order_id', 'received_on']);
    expect(slots['order_id'] === null || slots['order_id'] === 'E20261130123456').toBe(true);
    expect(slots['amount'] === null || typeof slots['amount'] === 'number').toBe(true);
    expect(slots['received_on'] === null || /^\d{4}-\d{2}-\d{2}$/.test(String(slots['received_on']))).toBe(
      true,
    );
  });

  it('summarises a transcript', async () => {
    const data = await run(
      {
        kind: 'summarize',
        previousSummary: null,
        transcript: [
          { role: 'customer', text: 'Where is my order E20261130123456?' },
          { role: 'assistant', text: 'It ships tomorrow.' },
        ],
        coversUpToSequence: 4,
      },
      {},
    );

    expect(data.result).toMatchObject({ kind: 'summarize', coversUpToSequence: 4 });
    expect(data.result.kind === 'summarize' && data.result.summary.length).toBeGreaterThan(0);
  });

  it('ranks the hand-written test utterances right three times in four on the fast path', async () => {
    // Measured 0.746 with multilingual-e5-small (train split as the examples): a guard, not a target.
    const lines = readFileSync(join(__dirname, '../../../../test/fixtures/intents/utterances.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { text: string; intent: string; split: 'train' | 'test' });
    const train = lines.filter((line) => line.split === 'train');
    const test = lines.filter((line) => line.split === 'test');
    const signal = AbortSignal.timeout(120_000);
    const trainVectors = await embeddings.embedQueries(
      train.map((line) => line.text),
      signal,
    );
    const index = IntentIndex.build(
      train.map((line, i) => ({ label: line.intent, vector: trainVectors[i]! })),
    );
    const testVectors = await embeddings.embedQueries(
      test.map((line) => line.text),
      signal,
    );

    const right = test.filter((line, i) => index.rank(testVectors[i]!)?.label === line.intent).length;

    expect(right / test.length).toBeGreaterThan(0.7);
  });
});
