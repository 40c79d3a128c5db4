import type { IntentDefinition, TenantSettings } from '@contracts';

const ORDER_ID_ASK = {
  zh: '请提供您的订单号（例如 E20261130123456），我马上为您查询。',
  en: 'Could you give me your order number (for example E20261130123456)? I will look it up right away.',
};

/**
 * The engine's default label set for e-commerce customer service, used when a tenant configures no
 * intents. Examples seed the embeddings fast path; tenants add their own through their settings.
 */
export const DEFAULT_INTENTS: IntentDefinition[] = [
  {
    name: 'greeting',
    description: 'The customer says hello or opens the conversation without a request yet.',
    examples: ['你好', '在吗？', '您好，有人吗', 'hello', 'hi there', 'good morning'],
    slots: [],
    handoff: false,
  },
  {
    name: 'order_status',
    description: 'Where an order or parcel is: shipping, logistics, delivery time, tracking.',
    examples: [
      '我的快递到哪了',
      '订单什么时候发货',
      '物流好几天没更新了',
      'where is my parcel',
      'when will my order arrive',
      'my tracking number has not updated',
    ],
    slots: [{ name: 'order_id', type: 'order_id', required: true, ask: ORDER_ID_ASK }],
    handoff: false,
  },
  {
    name: 'refund',
    description: 'The customer wants money back (without necessarily sending anything back).',
    examples: [
      '我要退款',
      '钱什么时候退给我',
      '取消订单退钱',
      'I want a refund',
      'when will I get my money back',
      'please refund my order',
    ],
    slots: [
      { name: 'order_id', type: 'order_id', required: true, ask: ORDER_ID_ASK },
      {
        name: 'reason',
        type: 'text',
        required: true,
        description: 'Why the customer wants a refund, in their words.',
        ask: { zh: '请问退款的原因是什么？', en: 'May I ask why you would like a refund?' },
      },
    ],
    handoff: false,
  },
  {
    name: 'return_exchange',
    description: 'The customer wants to send an item back, or exchange it for another size or model.',
    examples: [
      '这个尺码不合适，想换一个',
      '怎么退货',
      '收到的东西坏了要换货',
      'how do I return this',
      'can I exchange it for a bigger size',
      'I want to send the item back',
    ],
    slots: [
      { name: 'order_id', type: 'order_id', required: true, ask: ORDER_ID_ASK },
      {
        name: 'reason',
        type: 'text',
        required: true,
        description: 'Why the item goes back or is exchanged.',
        ask: { zh: '请问是什么原因需要退换呢？', en: 'What is the reason for the return or exchange?' },
      },
    ],
    handoff: false,
  },
  {
    name: 'product_question',
    description: 'A question about a product: features, size, material, stock, compatibility, use.',
    examples: [
      '这个电水壶是多少瓦的',
      '有没有白色的',
      '这款支持 110V 吗',
      'is this kettle stainless steel',
      'do you have it in stock',
      'what is the warranty on the vacuum',
    ],
    slots: [],
    handoff: false,
  },
  {
    name: 'complaint',
    description: 'The customer is unhappy about service, quality or delay and wants it addressed.',
    examples: [
      '你们的服务太差了',
      '我要投诉快递员',
      '等了两周还没到，太离谱了',
      'this is unacceptable',
      'I want to file a complaint',
      'your delivery service is terrible',
    ],
    slots: [
      {
        name: 'order_id',
        type: 'order_id',
        required: false,
        ask: ORDER_ID_ASK,
      },
    ],
    handoff: true,
  },
  {
    name: 'human_agent',
    description: 'The customer asks for a person.',
    examples: [
      '转人工',
      '我要人工客服',
      '找个真人',
      'talk to a person',
      'human agent please',
      'let me speak to someone',
    ],
    slots: [],
    handoff: true,
  },
  {
    name: 'goodbye',
    description: 'The customer ends the conversation or thanks the bot without a further request.',
    examples: ['谢谢，再见', '好的没问题了', '拜拜', 'thanks, bye', 'that is all', 'ok thank you'],
    slots: [],
    handoff: false,
  },
  {
    name: 'other',
    description: 'Anything else.',
    examples: [
      '今天天气怎么样',
      '你是机器人吗',
      '讲个笑话',
      'what is the weather',
      'are you a robot',
      'tell me a joke',
    ],
    slots: [],
    handoff: false,
  },
];

/** Texts the bot sends without a model. */
export const DEFAULT_TEMPLATES: NonNullable<TenantSettings['templates']> = {
  handoff_notice: {
    zh: '好的，正在为您转接人工客服，请稍候。',
    en: 'Sure, I am connecting you to a human agent. Please hold on.',
  },
  archived_notice: {
    zh: '由于长时间没有收到您的消息，本次会话已结束。如需帮助，欢迎随时再来。',
    en: 'This conversation was closed after a period without messages. Come back any time.',
  },
};

export const DEFAULTS = {
  fastPathMinConfidence: 0.75,
  inactivityTimeoutSeconds: 300,
  handoffAfterFailedTurns: 3,
} as const;

/** The settings a conversation runs under: what the tenant set, the engine's defaults for the rest. */
export function effectiveSettings(settings: TenantSettings) {
  return {
    ...settings,
    intents: settings.intents ?? DEFAULT_INTENTS,
    templates: { ...DEFAULT_TEMPLATES, ...settings.templates },
    fastPathMinConfidence: settings.fastPathMinConfidence ?? DEFAULTS.fastPathMinConfidence,
    inactivityTimeoutSeconds: settings.inactivityTimeoutSeconds ?? DEFAULTS.inactivityTimeoutSeconds,
    handoffAfterFailedTurns: settings.handoffAfterFailedTurns ?? DEFAULTS.handoffAfterFailedTurns,
  };
}
