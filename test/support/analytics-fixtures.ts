import { randomUUID } from 'node:crypto';
import type { PendingEvent } from '@contracts';

export interface TurnShape {
  text: string;
  /** The classify-intent result, or 'failed' when the task failed (sessions falls back). */
  intent: string;
  /** Which knowledge backends were down for this turn's search. */
  degraded?: { keyword: boolean; vector: boolean };
  /** Slots an extraction filled (names to values); none when absent. */
  slots?: Record<string, string | null>;
  outcome: 'completed' | 'failed';
  model?: string;
  promptTokens?: number;
}

/**
 * One whole customer turn as the services write it: the message, its intent (or the task's failure),
 * slots, the knowledge search, the reply request, a chunk and the outcome. For analytics tests and
 * benchmarks that need every field of a summary to vary.
 */
export function understoodTurn(shape: TurnShape): PendingEvent[] {
  const messageId = randomUUID();
  const turnId = randomUUID();
  const intentTask = randomUUID();
  const events: PendingEvent[] = [
    {
      eventId: randomUUID(),
      type: 'conversation.message-received.v1',
      data: { messageId, text: shape.text },
    },
    {
      eventId: randomUUID(),
      type: 'conversation.model-task-requested.v1',
      data: {
        taskId: intentTask,
        messageId,
        configVersion: 0,
        task: { kind: 'classify-intent', text: shape.text },
      },
    },
    shape.intent === 'failed'
      ? {
          eventId: randomUUID(),
          type: 'conversation.model-task-failed.v1',
          data: { taskId: intentTask, kind: 'classify-intent', code: 'model-timeout', message: 'slow' },
        }
      : {
          eventId: randomUUID(),
          type: 'conversation.model-task-completed.v1',
          data: {
            taskId: intentTask,
            result: {
              kind: 'classify-intent',
              label: shape.intent,
              confidence: 0.9,
              path: 'fast',
              candidates: [],
            },
            model: 'e5',
            timings: { totalMs: 3 },
          },
        },
    {
      eventId: randomUUID(),
      type: 'conversation.knowledge-retrieved.v1',
      data: {
        messageId,
        query: shape.text,
        results: [],
        degraded: shape.degraded ?? { keyword: false, vector: false },
        timings: { totalMs: 5 },
      },
    },
  ];
  if (shape.slots) {
    events.push({
      eventId: randomUUID(),
      type: 'conversation.model-task-completed.v1',
      data: {
        taskId: randomUUID(),
        result: { kind: 'extract-slots', slots: shape.slots },
        model: 'llm',
        timings: { totalMs: 9 },
      },
    });
  }
  events.push(
    {
      eventId: randomUUID(),
      type: 'conversation.reply-requested.v1',
      data: {
        turnId,
        inReplyTo: [messageId],
        prompt: [{ role: 'user', content: shape.text }],
        maxTokens: 64,
      },
    },
    {
      eventId: randomUUID(),
      type: 'conversation.reply-chunk-generated.v1',
      data: { turnId, attempt: 1, chunkIndex: 0, text: 'a' },
    },
    shape.outcome === 'failed'
      ? {
          eventId: randomUUID(),
          type: 'conversation.reply-failed.v1',
          data: { turnId, attempt: 1, code: 'model-timeout', message: 'slow' },
        }
      : {
          eventId: randomUUID(),
          type: 'conversation.reply-completed.v2',
          data: {
            turnId,
            attempt: 1,
            text: `answer to ${shape.text}`,
            model: shape.model ?? 'qwen',
            finishReason: 'stop',
            usage: { promptTokens: shape.promptTokens ?? 10, completionTokens: 5 },
            timings: { firstTokenMs: 1, totalMs: 2 },
            parts: [
              {
                backend: 'primary',
                model: shape.model ?? 'qwen',
                start: 0,
                end: `answer to ${shape.text}`.length,
              },
            ],
          },
        },
  );
  return events;
}
