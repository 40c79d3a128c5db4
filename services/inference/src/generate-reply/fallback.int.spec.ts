import pino from 'pino';
import type { ConversationEvent, EventOfType } from '@contracts';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { ContentFilterLists, ConversationStreams, InMemoryEventStore } from '@libs/event-store';
import { Metrics } from '@libs/platform';
import { FaultProxy, type Fault } from '@test/support';
import { modelBackend, ModelBackends } from '../backends';
import { OpenAiCompatibleClient } from '../llm.client';
import { GenerateReplyCommand } from './generate-reply.command';
import { GenerateReplyHandler } from './generate-reply.handler';
import { InferenceMetrics } from '../inference.metrics';

/**
 * Fallback against the real servers of the local stack (stack.env): the primary llama-server made
 * faulty through a FaultProxy (never stopped: other tests share it), the fallback llama-server behind
 * its own API key. Every turn must complete from the fallback, with one switch and no repeated text.
 */
function env(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: source ~/.cache/convo-engine/stack.env`);
  return value;
}

const FIRST_TOKEN_TIMEOUT_MS = 15_000;
const STALL_TIMEOUT_MS = 6_000;
const TURNS = 2;

jest.setTimeout(240_000);

let proxy: FaultProxy;

beforeAll(async () => {
  proxy = new FaultProxy(new URL(env('LLM_BASE_URL')));
  await proxy.start();
});

afterAll(async () => {
  await proxy.close();
});

function handlerWith(store: InMemoryEventStore): GenerateReplyHandler {
  const resilience = {
    // High enough that a scenario's failures never open the breaker: each turn must meet its fault.
    breakerFailures: 1_000,
    breakerHalfOpenMs: 60_000,
    retries: 1,
    retryBaseMs: 50,
  };
  const primary = new OpenAiCompatibleClient({
    baseURL: proxy.via(env('LLM_BASE_URL')),
    apiKey: env('LLM_API_KEY'),
    model: env('LLM_MODEL'),
    temperature: 0.3,
  });
  const fallback = new OpenAiCompatibleClient({
    baseURL: env('LLM_FALLBACK_BASE_URL'),
    apiKey: env('LLM_FALLBACK_API_KEY'),
    model: env('LLM_FALLBACK_MODEL'),
    temperature: 0.3,
  });
  return new GenerateReplyHandler(
    new ConversationStreams(store),
    store,
    new ModelBackends(
      modelBackend('primary', primary, { slots: 2, maxQueuedPerTenant: 10 }, resilience),
      modelBackend('fallback', fallback, { slots: 2, maxQueuedPerTenant: 10 }, resilience),
    ),
    {
      timeoutMs: 60_000,
      firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      chunkFlushMs: 150,
      chunkMaxChars: 120,
    },
    new InferenceMetrics(new Metrics('inference-fallback-test')),
    pino({ level: 'silent' }),
    new ContentFilterLists(store, 1_000),
  );
}

/** One turn through the handler; returns the events it appended. */
async function turn(question: string): Promise<ConversationEvent[]> {
  const store = new InMemoryEventStore();
  const given = new ConversationStreamBuilder();
  given.started();
  const message = given.message(question);
  const requested = given.replyRequested([message.data.messageId]);
  const request: EventOfType<'conversation.reply-requested.v1'> = {
    ...requested,
    data: {
      ...requested.data,
      prompt: [
        { role: 'system', content: 'You are a helpful customer service assistant for an online shop.' },
        { role: 'user', content: question },
      ],
      maxTokens: 48,
    },
  };
  store.seed('conversation', given.events);
  await handlerWith(store).execute(new GenerateReplyCommand(request));
  const all = await store.read('conversation', {
    tenantId: request.tenantId,
    streamId: request.conversationId,
  });
  return all.filter((event) => event.sequence > request.sequence);
}

const QUESTIONS = [
  'Where is my parcel? I ordered it three days ago.',
  'How do I return a pair of shoes that do not fit?',
  'Can I change the delivery address of my order?',
];

function expectCompletedFromFallback(events: ConversationEvent[], midway: boolean): void {
  const switches = events.filter((event) => event.type === 'conversation.reply-backend-switched.v1');
  const completed = events.find((event) => event.type === 'conversation.reply-completed.v2');
  const chunks = events.filter((event) => event.type === 'conversation.reply-chunk-generated.v1');
  expect(switches).toHaveLength(1);
  if (completed?.type !== 'conversation.reply-completed.v2') throw new Error('the turn did not complete');
  const switched = switches[0]!.data;
  const { text, parts } = completed.data;
  // What the customer saw (the chunks) is exactly the completion, with nothing from the primary twice.
  expect(chunks.map((chunk) => chunk.data.text).join('')).toBe(text);
  expect(parts.at(-1)).toMatchObject({
    backend: 'fallback',
    model: env('LLM_FALLBACK_MODEL'),
    end: text.length,
  });
  // The parts cover the text in order, without gaps or overlaps.
  expect(parts[0]?.start).toBe(0);
  for (const [index, part] of parts.entries()) if (index > 0) expect(part.start).toBe(parts[index - 1]?.end);
  expect(text.length).toBeGreaterThan(switched.deliveredChars);
  if (midway) {
    expect(switched.deliveredChars).toBeGreaterThan(0);
    expect(parts[0]).toMatchObject({ backend: 'primary', start: 0, end: switched.deliveredChars });
    const delivered = text.slice(0, switched.deliveredChars);
    const continuation = text.slice(switched.deliveredChars);
    // The continuation must not restate the delivered text (after an optional "Sure, "), nor its last
    // words. (A small model may loop on a phrase within its own part; that is the model, not a repeat.)
    const restated = continuation.replace(/^\s*(sure|ok|okay|certainly|of course)[\s,.!:]*/i, '');
    expect(restated.startsWith(delivered.trim())).toBe(false);
    expect(delivered.endsWith(continuation.slice(0, 8))).toBe(false);
  } else {
    expect(switched.deliveredChars).toBe(0);
    expect(parts).toHaveLength(1);
  }
}

describe('reply fallback against the real model servers', () => {
  const cases: Array<[string, Fault, string, boolean]> = [
    ['the primary resets every connection (down)', { kind: 'reset' }, 'connection-error', false],
    ['the primary answers 500', { kind: 'http-500' }, 'server-error', false],
    ['the primary never answers', { kind: 'timeout' }, 'first-token-timeout', false],
    [
      'the primary is slower to its first token than the deadline',
      { kind: 'slow-first-byte', delayMs: FIRST_TOKEN_TIMEOUT_MS + 2_000 },
      'first-token-timeout',
      false,
    ],
    ['the primary stream stalls halfway', { kind: 'stall-midway', afterBytes: 1_500 }, 'stalled', true],
    [
      'the primary stream is reset halfway',
      { kind: 'reset-midway', afterBytes: 1_500 },
      'connection-error',
      true,
    ],
  ];

  it.each(cases)('when %s, every turn completes from the fallback', async (_, fault, reason, midway) => {
    proxy.fault(fault);
    for (const question of QUESTIONS.slice(0, TURNS)) {
      const events = await turn(question);

      expectCompletedFromFallback(events, midway);
      expect(
        events.find((event) => event.type === 'conversation.reply-backend-switched.v1')?.data,
      ).toMatchObject({
        reason,
        from: { backend: 'primary', model: env('LLM_MODEL') },
        to: { backend: 'fallback', model: env('LLM_FALLBACK_MODEL') },
      });
    }
  });

  it('when the primary is healthy, the turn stays on it and nothing switches', async () => {
    proxy.fault({ kind: 'pass' });

    const events = await turn(QUESTIONS[0]!);

    expect(events.map((event) => event.type)).not.toContain('conversation.reply-backend-switched.v1');
    expect(events.at(-1)).toMatchObject({
      type: 'conversation.reply-completed.v2',
      data: { parts: [{ backend: 'primary', model: env('LLM_MODEL') }] },
    });
  });
});
