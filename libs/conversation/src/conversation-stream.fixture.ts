import {
  validateEvent,
  type ConversationEvent,
  type ConversationEventType,
  type EventData,
  type EventOfType,
  type PendingEvent,
} from '@contracts';

/**
 * Test-only builder of one conversation's stream. Every event it returns has passed the contracts'
 * validateEvent, so a test can never fold a fixture the real store would have refused.
 * Ids and times are deterministic (a counter), so two builders fed the same calls agree byte for byte.
 */
type EnvelopeMetadata = Omit<ConversationEvent, 'type' | 'data'>;

export const CONVERSATION_ID = '0c0c0c0c-0000-4000-8000-000000000001';
export const TENANT_ID = 'acme';
const EPOCH = Date.parse('2025-01-01T09:00:00.000Z');

/** A valid (RFC 9562 v4-shaped) uuid whose last group is `n`, for readable deterministic ids. */
export function fixtureId(prefix: 'a' | 'b' | 'c' | 'd' | 'e' | 'f', n: number): string {
  return `${prefix.repeat(8)}-0000-4000-8000-${n.toString().padStart(12, '0')}`;
}

export class ConversationStreamBuilder {
  readonly events: ConversationEvent[] = [];
  private ids = 0;

  constructor(
    readonly conversationId: string = CONVERSATION_ID,
    readonly tenantId: string = TENANT_ID,
  ) {}

  /** Appends one event at the next sequence; `overrides` may break the envelope on purpose (e.g. a gap). */
  event<T extends ConversationEventType>(
    type: T,
    data: EventData<T>,
    overrides: Partial<EnvelopeMetadata> = {},
  ): EventOfType<T> {
    const sequence = overrides.sequence ?? this.events.length + 1;
    const previous = this.events[this.events.length - 1];
    const candidate = {
      eventId: fixtureId('e', ++this.ids),
      type,
      tenantId: this.tenantId,
      conversationId: this.conversationId,
      sequence,
      occurredAt: new Date(EPOCH + sequence * 1000).toISOString(),
      causationId: previous?.eventId ?? null,
      correlationId: fixtureId('c', 1),
      data,
      ...overrides,
    };
    const result = validateEvent(candidate);
    if (!result.ok)
      throw new Error(`fixture ${type} is not schema-valid (${result.reason}): ${result.detail}`);
    if (result.event.type !== type) throw new Error(`fixture parsed as ${result.event.type}, wanted ${type}`);
    this.events.push(result.event);
    return result.event as EventOfType<T>;
  }

  /** Wraps what a decider returned in an envelope, the way the event store would. */
  append(pending: PendingEvent): ConversationEvent {
    return this.event(pending.type, pending.data, { eventId: pending.eventId });
  }

  started(data: Partial<EventData<'conversation.started.v2'>> = {}): EventOfType<'conversation.started.v2'> {
    return this.event('conversation.started.v2', {
      channel: 'web',
      locale: 'zh-CN',
      labels: {},
      configVersion: 0,
      ...data,
    });
  }

  message(
    text: string,
    messageId: string = fixtureId('a', this.ids + 1),
  ): EventOfType<'conversation.message-received.v1'> {
    return this.event('conversation.message-received.v1', { messageId, text });
  }

  replyRequested(
    inReplyTo: string[],
    turnId: string = fixtureId('b', this.ids + 1),
  ): EventOfType<'conversation.reply-requested.v1'> {
    return this.event('conversation.reply-requested.v1', {
      turnId,
      inReplyTo,
      prompt: [{ role: 'system', content: 'Be helpful.' }],
      maxTokens: 256,
    });
  }

  chunk(
    turnId: string,
    attempt: number,
    chunkIndex: number,
    text = 'part',
  ): EventOfType<'conversation.reply-chunk-generated.v1'> {
    return this.event('conversation.reply-chunk-generated.v1', { turnId, attempt, chunkIndex, text });
  }

  replyCompleted(turnId: string, text: string, attempt = 1): EventOfType<'conversation.reply-completed.v2'> {
    return this.event('conversation.reply-completed.v2', {
      turnId,
      attempt,
      text,
      model: 'test-model',
      finishReason: 'stop',
      usage: { promptTokens: 10, completionTokens: 5 },
      timings: { firstTokenMs: 12.5, totalMs: 40 },
      parts: [{ backend: 'primary', model: 'test-model', start: 0, end: text.length }],
    });
  }

  replyFailed(turnId: string, attempt = 1): EventOfType<'conversation.reply-failed.v1'> {
    return this.event('conversation.reply-failed.v1', {
      turnId,
      attempt,
      code: 'model-timeout',
      message: 'the model took too long',
    });
  }

  closed(
    reason: EventData<'conversation.closed.v1'>['reason'] = 'resolved',
  ): EventOfType<'conversation.closed.v1'> {
    return this.event('conversation.closed.v1', { reason });
  }
}
