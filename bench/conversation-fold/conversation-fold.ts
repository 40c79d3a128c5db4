/**
 * How long folding a conversation takes: what `GET /v1/conversations/{id}/state?at=` and every decision
 * in sessions pay. Builds a realistic 200-event conversation (refund with slots, product questions with
 * knowledge, replies with chunks, a summary, a handoff and return) by driving the real decider, then
 * folds it many times and reports percentiles. No services needed: `npm run bench:fold`.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { ConversationEvent, PendingEvent } from '@contracts';
import {
  DerivedIds,
  contextOf,
  decide,
  decideNext,
  fold,
  toStateAt,
  type TurnPolicy,
} from '@libs/conversation';
import { DEFAULT_INTENTS, DEFAULT_TEMPLATES } from '@libs/tenant-settings';

const POLICY: TurnPolicy = {
  systemPrompt: 'You are a support assistant.',
  historyLimit: 12,
  maxTokens: 256,
  contextTokens: 4096,
  intents: DEFAULT_INTENTS,
  templates: DEFAULT_TEMPLATES,
  handoffAfterFailedTurns: 3,
};
const TARGET_EVENTS = Number(process.argv[2] ?? 200);
const RUNS = Number(process.argv[3] ?? 2000);

const events: ConversationEvent[] = [];
const start = Date.parse('2026-11-30T02:00:00.000Z');

function append(pending: PendingEvent[]): void {
  for (const event of pending) {
    events.push({
      ...event,
      tenantId: 'acme',
      conversationId: '0c0c0c0c-0000-4000-8000-000000000001',
      sequence: events.length + 1,
      occurredAt: new Date(start + events.length * 1000).toISOString(),
      causationId: null,
      correlationId: event.eventId,
    });
  }
}

const react = () => append(decideNext(fold(events), POLICY));
const say = (text: string) => {
  const messageId = randomUUID();
  append([{ eventId: randomUUID(), type: 'conversation.message-received.v1', data: { messageId, text } }]);
  react();
  return messageId;
};
const classify = (messageId: string, label: string) => {
  append([
    {
      eventId: randomUUID(),
      type: 'conversation.model-task-completed.v1',
      data: {
        taskId: DerivedIds.classifyTask(messageId),
        result: { kind: 'classify-intent', label, confidence: 0.9, path: 'fast', candidates: [] },
        model: 'e5',
        timings: { totalMs: 8 },
      },
    },
  ]);
  react();
};
const knowledge = (messageId: string) => {
  append([
    {
      eventId: randomUUID(),
      type: 'conversation.knowledge-retrieved.v1',
      data: {
        messageId,
        query: 'q',
        results: [
          { documentId: 'faq-1', title: '退款', chunkIndex: 0, score: 0.8, text: '3-5 个工作日原路退回。' },
        ],
        degraded: { keyword: false, vector: false },
        timings: { totalMs: 20 },
      },
    },
  ]);
  react();
};
const answer = () => {
  const turn = contextOf(fold(events)).activeTurn;
  if (!turn) return;
  for (let chunk = 0; chunk < 4; chunk++) {
    append([
      {
        eventId: randomUUID(),
        type: 'conversation.reply-chunk-generated.v1',
        data: { turnId: turn.turnId, attempt: 1, chunkIndex: chunk, text: '好的，' },
      },
    ]);
  }
  append([
    {
      eventId: randomUUID(),
      type: 'conversation.reply-completed.v2',
      data: {
        turnId: turn.turnId,
        attempt: 1,
        text: '好的，好的，好的，好的，',
        model: 'qwen',
        finishReason: 'stop',
        usage: { promptTokens: 300, completionTokens: 20 },
        timings: { firstTokenMs: 100, totalMs: 900 },
        parts: [{ backend: 'primary', model: 'qwen', start: 0, end: 12 }],
      },
    },
  ]);
  react();
};

append(
  decide(
    {
      type: 'start-conversation',
      eventId: randomUUID(),
      data: { channel: 'web', locale: 'zh-CN', labels: {}, configVersion: 0 },
      reference: 'acme-20261130-K7QX2M9P',
    },
    fold([]),
  ),
);
const refund = say('我要退款，订单号E20261130123456');
classify(refund, 'refund');
while (events.length < TARGET_EVENTS) {
  const message = say('这款电水壶支持 110V 吗？');
  classify(message, 'product_question');
  knowledge(message);
  answer();
}
const stream = events.slice(0, TARGET_EVENTS);

const timings: number[] = [];
const cpuBefore = process.cpuUsage();
for (let run = 0; run < RUNS; run++) {
  const began = performance.now();
  toStateAt(fold(stream));
  timings.push(performance.now() - began);
}
const cpu = process.cpuUsage(cpuBefore);
timings.sort((a, b) => a - b);
const at = (q: number) =>
  (timings[Math.min(timings.length - 1, Math.ceil(q * timings.length) - 1)] ?? 0).toFixed(3);
const state = toStateAt(fold(stream));
console.log(
  JSON.stringify(
    {
      events: stream.length,
      runs: RUNS,
      foldMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) },
      cpuMsPerFold: ((cpu.user + cpu.system) / 1000 / RUNS).toFixed(3),
      finalState: {
        status: state.status,
        intent: state.intent?.name,
        slots: Object.keys(state.slots),
        summary: state.summary !== null,
      },
    },
    null,
    2,
  ),
);
