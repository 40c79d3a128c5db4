import type { Citation, ConversationEvent, EventOfType, PendingEvent } from '@contracts';
import { DEFAULT_INTENTS, DEFAULT_TEMPLATES } from '@libs/tenant-settings';
import { ConversationStreamBuilder } from './conversation-stream.fixture';
import { fold, type ConversationState } from './conversation.state';
import { decideNext, type TurnPolicy } from './dialogue.decider';
import { DerivedIds } from './ids';

export const TURN_POLICY: TurnPolicy = {
  systemPrompt: 'You are a support assistant.',
  historyLimit: 12,
  maxTokens: 256,
  contextTokens: 4096,
  intents: DEFAULT_INTENTS,
  templates: DEFAULT_TEMPLATES,
  handoffAfterFailedTurns: 3,
};

export const KNOWLEDGE: Citation[] = [
  {
    documentId: 'faq-021',
    title: '退款时效',
    chunkIndex: 0,
    score: 0.8,
    text: '退款将在 3-5 个工作日内原路退回。',
  },
];

/**
 * Test-only: a conversation driven the way the services drive it. Outside facts (a customer message, a
 * model's answer, retrieval's results, an agent) are appended, then the session reacts (decideNext) and
 * its events are appended too; `decided` holds what the last reaction appended.
 */
export class Dialogue {
  readonly stream = new ConversationStreamBuilder();
  decided: ConversationEvent[] = [];

  constructor(readonly policy: TurnPolicy = TURN_POLICY) {}

  get events(): ConversationEvent[] {
    return this.stream.events;
  }

  get state(): ConversationState {
    return fold(this.events);
  }

  start(locale: string | null = 'zh-CN'): this {
    this.stream.started({ locale });
    return this.react();
  }

  say(text: string): EventOfType<'conversation.message-received.v1'> {
    const message = this.stream.message(text);
    this.react();
    return message;
  }

  classify(messageId: string, label: string, confidence = 0.9): this {
    this.stream.event('conversation.model-task-completed.v1', {
      taskId: DerivedIds.classifyTask(messageId),
      result: { kind: 'classify-intent', label, confidence, path: 'fast', candidates: [] },
      model: 'bge-m3',
      timings: { totalMs: 8 },
    });
    return this.react();
  }

  classifyFailed(messageId: string): this {
    this.stream.event('conversation.model-task-failed.v1', {
      taskId: DerivedIds.classifyTask(messageId),
      kind: 'classify-intent',
      code: 'model-timeout',
      message: 'too slow',
    });
    return this.react();
  }

  /** Answers the open extract-slots task of the message. */
  extracted(messageId: string, slots: Record<string, string | number | null>): this {
    const task = this.events.find(
      (event): event is EventOfType<'conversation.model-task-requested.v1'> =>
        event.type === 'conversation.model-task-requested.v1' &&
        event.data.messageId === messageId &&
        event.data.task.kind === 'extract-slots',
    );
    if (!task) throw new Error(`no extract-slots task for ${messageId}`);
    this.stream.event('conversation.model-task-completed.v1', {
      taskId: task.data.taskId,
      result: { kind: 'extract-slots', slots },
      model: 'qwen',
      timings: { totalMs: 300 },
    });
    return this.react();
  }

  knowledge(messageId: string, results: Citation[] = KNOWLEDGE): this {
    this.stream.event('conversation.knowledge-retrieved.v1', {
      messageId,
      query: 'q',
      results,
      degraded: { keyword: false, vector: false },
      timings: { totalMs: 20 },
    });
    return this.react();
  }

  /** Any event from outside, then the session's reaction. */
  append(pending: PendingEvent): this {
    this.stream.append(pending);
    return this.react();
  }

  react(): this {
    const before = this.events.length;
    for (const event of decideNext(this.state, this.policy)) this.stream.append(event);
    this.decided = this.events.slice(before);
    return this;
  }

  decidedTypes(): string[] {
    return this.decided.map((event) => event.type);
  }

  lastOf<T extends ConversationEvent['type']>(type: T): EventOfType<T> {
    const found = [...this.events].reverse().find((event) => event.type === type);
    if (!found) throw new Error(`no ${type} in the stream`);
    return found as EventOfType<T>;
  }
}
