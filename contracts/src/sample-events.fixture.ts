import { kindOfType, type StoredEvent, type StoredEventType } from './events';

/**
 * Test-only: one realistic, schema-valid event of every type, as plain JSON (what arrives on the topic).
 * The spec files assert these are valid before using them, so an invalid sample fails loudly.
 */
export const SAMPLE_ENVELOPE = {
  eventId: '9b2f6c1e-2d4a-4f7b-8c3d-1a2b3c4d5e6f',
  tenantId: 'acme-cn',
  conversationId: '3f1d2c4b-5a6e-4b7c-9d8e-0f1a2b3c4d5e',
  sequence: 1,
  occurredAt: '2025-03-01T08:30:00.000Z',
  causationId: null,
  correlationId: '7c6b5a49-3827-4e16-a5f4-e3d2c1b0a9f8',
} as const;

const MESSAGE_ID = '11111111-2222-4333-8444-555555555555';
const TURN_ID = '66666666-7777-4888-9999-aaaaaaaaaaaa';

const SAMPLE_REVISION = {
  documentId: 'returns-policy',
  revision: 2,
  title: '退换货政策 Returns policy',
  format: 'markdown' as const,
  contentHash: 'a3f1c2b4d5e6f7081928374655647382910a1b2c3d4e5f60718293a4b5c6d7e8',
  sizeBytes: 18_204,
};

/** The stream each kind's sample belongs to. */
const SAMPLE_STREAM_ID = {
  'tenant-settings': 'settings',
  access: 'access',
  'knowledge-document': 'kb-document:returns-policy',
  'content-filter': 'content-filter',
};

type StoredData<T extends StoredEventType> = Extract<StoredEvent, { type: T }>['data'];

export const SAMPLE_DATA: { [T in StoredEventType]: StoredData<T> } = {
  'conversation.started.v1': { channel: 'wechat', locale: 'zh-CN', labels: { queue: 'billing' } },
  'conversation.started.v2': {
    channel: 'wechat',
    locale: 'zh-CN',
    labels: { queue: 'billing' },
    configVersion: 3,
  },
  'conversation.erased.v1': {
    keyId: '0b5d7c1a-8e2f-4a6b-9c3d-2e1f0a9b8c7d',
    role: 'compliance',
    reason: 'data-subject-request',
    reference: 'PIPL-2025-0042',
  },
  'conversation.message-received.v1': { messageId: MESSAGE_ID, text: '我的快递什么时候到？' },
  'conversation.reply-requested.v1': {
    turnId: TURN_ID,
    inReplyTo: [MESSAGE_ID],
    prompt: [
      { role: 'system', content: 'You are a support assistant.' },
      { role: 'user', content: '我的快递什么时候到？' },
    ],
    maxTokens: 256,
  },
  'conversation.reply-chunk-generated.v1': { turnId: TURN_ID, attempt: 1, chunkIndex: 0, text: '您好' },
  'conversation.reply-completed.v1': {
    turnId: TURN_ID,
    attempt: 1,
    text: '您好，您的快递预计明天送达。',
    model: 'qwen2.5-7b-instruct',
    finishReason: 'stop',
    usage: { promptTokens: 42, completionTokens: 17 },
    timings: { firstTokenMs: 180.5, totalMs: 950 },
  },
  'conversation.reply-completed.v2': {
    turnId: TURN_ID,
    attempt: 1,
    text: '您好，您的快递预计明天送达。',
    model: 'qwen2.5-coder-0.5b-instruct',
    finishReason: 'stop',
    usage: { promptTokens: 42, completionTokens: 17 },
    timings: { firstTokenMs: 180.5, totalMs: 1950 },
    parts: [
      { backend: 'primary', model: 'qwen2.5-7b-instruct', start: 0, end: 6 },
      { backend: 'fallback', model: 'qwen2.5-coder-0.5b-instruct', start: 6, end: 14 },
    ],
  },
  'conversation.reply-backend-switched.v1': {
    turnId: TURN_ID,
    attempt: 1,
    from: { backend: 'primary', model: 'qwen2.5-7b-instruct' },
    to: { backend: 'fallback', model: 'qwen2.5-coder-0.5b-instruct' },
    reason: 'stalled',
    deliveredChars: 6,
    message: 'no token for 10000 ms',
  },
  'conversation.answer-cache-hit.v1': {
    turnId: TURN_ID,
    sourceConversationId: '0190f0c2-3b4d-7e8f-9a0b-1c2d3e4f5a6b',
    sourceTurnId: '0190f0c2-3b4d-7e8f-9a0b-1c2d3e4f5a6c',
    cacheKey: 'a'.repeat(64),
  },
  'conversation.reply-failed.v1': {
    turnId: TURN_ID,
    attempt: 2,
    code: 'model-timeout',
    message: 'no reply in 60s',
  },
  'conversation.closed.v1': { reason: 'customer-left' },
  'conversation.model-task-requested.v1': {
    taskId: '77777777-8888-4999-8aaa-bbbbbbbbbbbb',
    messageId: MESSAGE_ID,
    configVersion: 3,
    task: { kind: 'classify-intent', text: '我的快递什么时候到？' },
  },
  'conversation.model-task-completed.v1': {
    taskId: '77777777-8888-4999-8aaa-bbbbbbbbbbbb',
    result: {
      kind: 'classify-intent',
      label: 'order_status',
      confidence: 0.91,
      path: 'fast',
      candidates: [{ label: 'refund', score: 0.42 }],
    },
    model: 'multilingual-e5-small',
    timings: { totalMs: 14.2 },
  },
  'conversation.model-task-failed.v1': {
    taskId: '77777777-8888-4999-8aaa-bbbbbbbbbbbb',
    kind: 'extract-slots',
    code: 'invalid-output',
    message: 'the model answered with a value that is not an order number',
  },
  'conversation.knowledge-retrieved.v1': {
    messageId: MESSAGE_ID,
    query: '我的快递什么时候到？',
    results: [
      {
        documentId: 'faq-017',
        title: '配送时效',
        chunkIndex: 0,
        score: 0.0327,
        text: '下单后 48 小时内发货，一般 3-5 个工作日送达。',
      },
    ],
    degraded: { keyword: false, vector: false },
    timings: { totalMs: 23.5 },
  },
  'access.denied.v1': {
    keyId: '0b5c3a5e-8f1e-4c1a-9d2b-3e4f5a6b7c8d',
    role: 'analyst',
    method: 'POST',
    route: '/v1/conversations/:id/messages',
    allowed: ['frontend', 'agent'],
  },
  'access.raw-data-read.v1': {
    keyId: '0b5c3a5e-8f1e-4c1a-9d2b-3e4f5a6b7c8d',
    role: 'compliance',
    route: '/v1/analytics/conversations/:id/replay',
    scope: { conversationId: '3f1d2c4b-5a6e-4b7c-9d8e-0f1a2b3c4d5e' },
  },
  'conversation.reference-assigned.v1': { reference: 'acme-cn-20250301-K7QX2M9P' },
  'conversation.intent-resolved.v1': {
    messageId: MESSAGE_ID,
    intent: 'refund',
    label: 'refund',
    confidence: 0.91,
    path: 'fast',
    failed: false,
  },
  'conversation.slot-filled.v1': {
    messageId: MESSAGE_ID,
    intent: 'refund',
    slot: 'order_id',
    value: 'E20250301123456',
    source: 'pattern',
  },
  'conversation.slot-corrected.v1': {
    messageId: MESSAGE_ID,
    intent: 'refund',
    slot: 'order_id',
    value: 'E20250301654321',
    previousValue: 'E20250301123456',
    source: 'pattern',
  },
  'conversation.slot-rejected.v1': {
    messageId: MESSAGE_ID,
    intent: 'refund',
    slot: 'order_id',
    value: '12345',
    reason: 'invalid-format',
    source: 'model',
  },
  'conversation.bot-message-sent.v1': {
    messageId: '88888888-9999-4aaa-8bbb-cccccccccccc',
    inReplyTo: [MESSAGE_ID],
    template: 'ask_reason',
    slot: 'reason',
    text: '请问退款的原因是什么？',
  },
  'conversation.handed-off.v1': {
    reason: 'customer-request',
    intent: 'human_agent',
    inReplyTo: [MESSAGE_ID],
  },
  'conversation.agent-message-sent.v1': {
    messageId: '99999999-aaaa-4bbb-8ccc-dddddddddddd',
    agentId: 'agent-007',
    text: '您好，我是客服小王，我来帮您处理退款。',
  },
  'conversation.returned-to-bot.v1': { agentId: 'agent-007' },
  'conversation.inactivity-timed-out.v1': {
    timerId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    lastActivitySequence: 4,
    timeoutSeconds: 300,
  },
  'conversation.knowledge-wait-expired.v1': {
    timerId: 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff',
    messageId: MESSAGE_ID,
    waitedMs: 3000,
  },
  'tenant.limits-set.v1': {
    limits: {
      tenant: { requestsPerMinute: 600, tokensPerMinute: 200_000 },
      perKey: { requestsPerMinute: 120 },
    },
  },
  'tenant.settings-updated.v1': {
    settings: {
      systemPrompt: '你是 Acme 的客服助手。',
      historyLimit: 8,
      replyMaxTokens: 300,
      intents: [
        {
          name: 'refund',
          description: 'The customer wants money back.',
          examples: ['我要退款', 'I want a refund'],
          slots: [
            {
              name: 'order_id',
              type: 'order_id',
              required: true,
              ask: { zh: '请提供订单号。', en: 'Your order number?' },
            },
          ],
          handoff: false,
        },
      ],
      inactivityTimeoutSeconds: 300,
      templates: { handoff_notice: { zh: '正在为您转接人工客服。', en: 'Connecting you to an agent.' } },
    },
  },
  'knowledge.document-ingested.v1': { ...SAMPLE_REVISION, revision: 1 },
  'knowledge.document-replaced.v1': SAMPLE_REVISION,
  'knowledge.document-indexing-progressed.v1': {
    documentId: 'returns-policy',
    revision: 2,
    chunksIndexed: 32,
    chunksTotal: 75,
  },
  'knowledge.document-indexed.v1': {
    documentId: 'returns-policy',
    revision: 2,
    chunks: 75,
    embeddingModel: 'multilingual-e5-small',
  },
  'knowledge.document-indexing-failed.v1': {
    documentId: 'returns-policy',
    revision: 2,
    code: 'unparseable',
    message: 'Invalid PDF structure',
  },
  'knowledge.document-deleted.v1': { documentId: 'returns-policy', revision: 2 },
  'conversation.content-flagged.v1': {
    direction: 'inbound',
    messageId: MESSAGE_ID,
    turnId: null,
    action: 'mask',
    categories: ['contact-diversion'],
    matches: 1,
  },
  'moderation.words-listed.v1': {
    listId: 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff',
    part: 0,
    category: 'contact-diversion',
    words: ['加微信', 'wechat'],
  },
  'moderation.list-replaced.v1': {
    listId: 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff',
    parts: 1,
    words: 2,
    actions: { 'contact-diversion': 'mask' },
  },
};

export const SAMPLE_TYPES = Object.keys(SAMPLE_DATA) as StoredEventType[];

/** A fresh, mutable JSON copy of the sample event of `type`, so a test may break it freely. */
export type MutableEvent = Record<string, unknown> & { data: Record<string, unknown> };

export function sampleEvent(type: StoredEventType): MutableEvent {
  const { conversationId, ...envelope } = SAMPLE_ENVELOPE;
  const kind = kindOfType(type);
  const streamId =
    kind === 'conversation' || kind === undefined ? { conversationId } : { streamId: SAMPLE_STREAM_ID[kind] };
  return structuredClone({ ...envelope, type, ...streamId, data: SAMPLE_DATA[type] });
}
