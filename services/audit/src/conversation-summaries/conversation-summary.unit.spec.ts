import type { ConversationEvent, PendingEvent } from '@contracts';
import { started, understoodTurn } from '@test/support';
import { averageLatencyMs, summarize, type ConversationSummary } from './conversation-summary';

const CONVERSATION = '6f1c2a4e-3b5d-4c7e-9f80-1a2b3c4d5e6f';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Envelopes in stream order, `seconds[i]` after T0 (the store's occurredAt). */
function envelopes(pending: PendingEvent[], seconds: (index: number) => number): ConversationEvent[] {
  return pending.map((event, index): ConversationEvent => ({
    ...event,
    tenantId: 'acme',
    conversationId: CONVERSATION,
    sequence: index + 1,
    occurredAt: new Date(T0 + seconds(index) * 1000).toISOString(),
    causationId: null,
    correlationId: CONVERSATION,
  }));
}

function fold(events: ConversationEvent[]): ConversationSummary {
  const summary = events.reduce<ConversationSummary | undefined>(summarize, undefined);
  if (!summary) throw new Error('no summary');
  return summary;
}

describe('summarize: what analysts filter and aggregate on', () => {
  it('intents in order, slots filled (names only), models, tokens, retrieval degraded and intent fallbacks', () => {
    const events = envelopes(
      [
        started(),
        ...understoodTurn({ text: 'where is my parcel', intent: 'order_status', outcome: 'completed' }),
        ...understoodTurn({
          text: 'I want a refund for 12345',
          intent: 'refund',
          slots: { order_id: '12345', reason: null },
          degraded: { keyword: false, vector: true },
          outcome: 'completed',
          model: 'qwen-fallback',
          promptTokens: 20,
        }),
        ...understoodTurn({ text: 'hello?', intent: 'failed', outcome: 'failed' }),
        ...understoodTurn({ text: 'the refund again', intent: 'refund', outcome: 'completed' }),
      ],
      (index) => index,
    );
    const summary = fold(events);
    expect(summary).toMatchObject({
      intent: 'refund',
      intents: ['order_status', 'refund'],
      intentFallbacks: 1,
      slotsFilled: ['order_id'],
      models: ['qwen', 'qwen-fallback'],
      messages: 4,
      turnsCompleted: 3,
      turnsFailed: 1,
      promptTokens: 40,
      completionTokens: 15,
      retrievals: 4,
      retrievalsDegraded: 1,
      handedOff: false,
      pending: { messages: {}, turns: {} },
      lastSequence: events.length,
    });
  });

  it('latency per turn runs from the first message it answers to its completion, by occurredAt', () => {
    // Two messages, then one reply for both: timed from the first. Then a turn that fails: not timed.
    const [first, second] = [
      understoodTurn({ text: 'one', intent: 'other', outcome: 'completed' })[0]!,
      understoodTurn({ text: 'two', intent: 'other', outcome: 'completed' })[0]!,
    ];
    const idOf = (event: PendingEvent) => (event.data as { messageId: string }).messageId;
    const turnId = 'a1b2c3d4-0000-4000-8000-000000000001';
    const failing = understoodTurn({ text: 'three', intent: 'other', outcome: 'failed' });
    const timeline: [PendingEvent, number][] = [
      [started(), 0],
      [first, 10],
      [second, 12],
      [
        {
          eventId: 'a1b2c3d4-0000-4000-8000-00000000000a',
          type: 'conversation.reply-requested.v1',
          data: {
            turnId,
            inReplyTo: [idOf(first), idOf(second)],
            prompt: [{ role: 'user', content: 'x' }],
            maxTokens: 9,
          },
        },
        13,
      ],
      [
        {
          eventId: 'a1b2c3d4-0000-4000-8000-00000000000b',
          type: 'conversation.reply-completed.v2',
          data: {
            turnId,
            attempt: 1,
            text: 'ok',
            model: 'qwen',
            finishReason: 'stop',
            usage: { promptTokens: 1, completionTokens: 1 },
            timings: { firstTokenMs: 1, totalMs: 1 },
            parts: [{ backend: 'primary', model: 'qwen', start: 0, end: 'ok'.length }],
          },
        },
        14.5,
      ],
      ...failing.map((event, index): [PendingEvent, number] => [event, 20 + index]),
    ];
    const events = envelopes(
      timeline.map(([event]) => event),
      (index) => timeline[index]![1],
    );
    const summary = fold(events);
    expect(summary).toMatchObject({ latencyTurns: 1, latencyTotalMs: 4_500, latencyMaxMs: 4_500 });
    expect(averageLatencyMs(summary)).toBe(4_500);
  });

  it('a closed conversation keeps its reason and forgets turns still waiting', () => {
    const turn = understoodTurn({ text: 'bye', intent: 'other', outcome: 'completed' }).slice(0, 5);
    const events = envelopes(
      [
        started(),
        ...turn,
        {
          eventId: 'a1b2c3d4-0000-4000-8000-0000000000cc',
          type: 'conversation.closed.v1',
          data: { reason: 'customer-left' },
        },
      ],
      (index) => index,
    );
    const beforeClose = fold(events.slice(0, -1));
    expect(Object.keys(beforeClose.pending.turns)).toHaveLength(1);
    expect(fold(events)).toMatchObject({
      status: 'closed',
      closedReason: 'customer-left',
      latencyTurns: 0,
      pending: { messages: {}, turns: {} },
    });
  });

  it('an event at or below the last sequence folded in changes nothing (a redelivered batch)', () => {
    const events = envelopes(
      [started(), ...understoodTurn({ text: 'hi', intent: 'greeting', outcome: 'completed' })],
      (index) => index,
    );
    const summary = fold(events);
    expect(summarize(summary, events[3]!)).toBe(summary);
  });
});
