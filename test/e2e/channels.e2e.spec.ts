/**
 * IM channels on the real stack: the five services, a local stand-in of the Feishu Open API and the
 * Telegram Bot API (the real SDKs talk to it), and the fixed-latency model server of bench/ (a known
 * reply, quickly). Acceptance of issue 11 part 2: forged, stale or replayed webhook deliveries are
 * rejected and leave nothing but a log entry; a valid one produces exactly one conversation turn and
 * one outbound reply, even when delivered twice.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFixedLatencyServer } from '@bench/fixed-latency-model';
import { GatewayClient } from '@libs/client';
import { derivedId } from '@libs/conversation';
import {
  E2eStack,
  ImPlatformStandIn,
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  feishuEncrypt,
  feishuMessageEvent,
  feishuSign,
  holdsFor,
  telegramUpdate,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(240_000);

const basePort = Number(process.env.E2E_BASE_PORT ?? 4100);
const VERIFICATION_TOKEN = 'v-token-acme';
const ENCRYPT_KEY = 'encrypt-key-acme';
const SECRET_TOKEN = 'tg-secret-acme';
/** What the fixed-latency model says (its 11 tokens, once). */
const MODEL_REPLY = 'Thanks for waiting, your order is on its way.';

let stack: E2eStack;
let db: TestDatabase;
let services: ServiceProcesses;
const model = createFixedLatencyServer({
  ttftMs: 20,
  tokensPerSecond: 200,
  replyTokens: 11,
  model: 'fixed-latency',
});
const platform = new ImPlatformStandIn();
let frontend: GatewayClient;
let gatewayUrl: string;

beforeAll(async () => {
  stack = await E2eStack.create('channels', ['EMBEDDINGS_BASE_URL']);
  ({ db } = stack);
  const frontendKey = await createTenantWithKey(db.dataSource, 'acme');
  await answerEveryMessage(db.dataSource, 'acme', ['Where is my order?', '我的包裹到哪了？']);
  const platformUrl = await platform.start(basePort + 8);
  const modelPort = basePort + 9;
  await new Promise<void>((resolve) => model.server.listen(modelPort, '127.0.0.1', resolve));
  services = stack.services(basePort, {
    LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
    LLM_MODEL: 'fixed-latency',
    LLM_FALLBACK_BASE_URL: '',
    CHANNEL_CONNECTORS: JSON.stringify([
      {
        kind: 'feishu',
        id: 'lark-acme',
        tenantId: 'acme',
        appId: 'cli_acme',
        appSecret: 'app-secret',
        verificationToken: VERIFICATION_TOKEN,
        encryptKey: ENCRYPT_KEY,
        apiBaseUrl: platformUrl,
      },
      {
        kind: 'telegram',
        id: 'tg-acme',
        tenantId: 'acme',
        botToken: '123456:stand-in',
        secretToken: SECRET_TOKEN,
        apiBaseUrl: platformUrl,
      },
    ]),
  });
  await services.startAll();
  gatewayUrl = services.url('gateway');
  frontend = new GatewayClient(gatewayUrl, frontendKey);
});

afterAll(async () => {
  await new Promise((resolve) => model.server.close(resolve));
  await platform.stop();
  await stack?.stop();
});

/** The conversation of a chat (its first): the id the gateway derives. */
const chatConversation = (connectorId: string, chatId: string) =>
  derivedId('channel-conversation', 'acme', connectorId, chatId, '0');

function feishuDelivery(
  payload: unknown,
  { key = ENCRYPT_KEY, timestampS = Math.floor(Date.now() / 1000) } = {},
) {
  const body = JSON.stringify({ encrypt: feishuEncrypt(ENCRYPT_KEY, payload) });
  const timestamp = String(timestampS);
  const nonce = randomBytes(8).toString('hex');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': feishuSign(key, timestamp, nonce, body),
    },
  };
}

async function post(path: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${gatewayUrl}${path}`, { method: 'POST', body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const postFeishu = (delivery: { body: string; headers: Record<string, string> }) =>
  post('/v1/channels/feishu/lark-acme/events', delivery.body, delivery.headers);

const postTelegram = (update: unknown, secret = SECRET_TOKEN) =>
  post('/v1/channels/telegram/tg-acme/webhook', JSON.stringify(update), {
    'content-type': 'application/json',
    'x-telegram-bot-api-secret-token': secret,
  });

async function storedEvents(): Promise<number> {
  const [row] = await db.dataSource.query<{ count: string }[]>('SELECT count(*) AS count FROM events');
  return Number(row?.count);
}

async function turnsOf(conversationId: string) {
  const events = await frontend.allEvents(conversationId);
  const count = (type: string) => events.filter((event) => event.type === type).length;
  return {
    messages: count('conversation.message-received.v1'),
    completions: count('conversation.reply-completed.v2'),
  };
}

const sentTo = (chatKey: string, chatId: string) =>
  platform.calls.filter((call) => call.body[chatKey] === chatId);

describe('Feishu event subscription', () => {
  it('answers the URL verification challenge (encrypted, with the verification token)', async () => {
    const handshake = { type: 'url_verification', challenge: 'challenge-123', token: VERIFICATION_TOKEN };
    const body = JSON.stringify({ encrypt: feishuEncrypt(ENCRYPT_KEY, handshake) });

    const answer = await post('/v1/channels/feishu/lark-acme/events', body, {
      'content-type': 'application/json',
    });

    expect(answer).toEqual({ status: 200, body: { challenge: 'challenge-123' } });
  });

  it('a valid message delivered twice gives one turn and one reply through the message API', async () => {
    const payload = feishuMessageEvent({
      eventId: 'ev-feishu-1',
      token: VERIFICATION_TOKEN,
      chatId: 'oc_chat_1',
      text: 'Where is my order?',
    });

    const first = await postFeishu(feishuDelivery(payload));
    const second = await postFeishu(feishuDelivery(payload)); // Feishu's retry: new signature, same event

    expect([first.status, second.status]).toEqual([200, 200]);
    const conversationId = chatConversation('lark-acme', 'oc_chat_1');
    await waitFor('the reply sent to the chat', () => sentTo('receive_id', 'oc_chat_1').length > 0, {
      timeoutMs: 90_000,
    });
    await holdsFor('one reply only', () => sentTo('receive_id', 'oc_chat_1').length === 1, {
      durationMs: 3_000,
    });
    const [sent] = sentTo('receive_id', 'oc_chat_1');
    expect(sent?.path).toContain('receive_id_type=chat_id');
    expect(sent?.body).toMatchObject({ msg_type: 'text', content: JSON.stringify({ text: MODEL_REPLY }) });
    expect(await turnsOf(conversationId)).toEqual({ messages: 1, completions: 1 });
    const view = await frontend.getConversation(conversationId);
    expect(view.labels).toEqual({
      'im.platform': 'feishu',
      'im.connector': 'lark-acme',
      'im.chat': 'oc_chat_1',
    });
  });

  it('forged, stale and replayed deliveries are refused and write nothing', async () => {
    const payload = (eventId: string, createTimeMs?: number) =>
      feishuMessageEvent({
        eventId,
        token: VERIFICATION_TOKEN,
        chatId: 'oc_chat_2',
        text: 'hello',
        createTimeMs,
      });
    const before = await storedEvents();

    const forgedSignature = await postFeishu(feishuDelivery(payload('ev-forged-1'), { key: 'not-the-key' }));
    const wrongToken = await postFeishu(
      feishuDelivery(
        feishuMessageEvent({ eventId: 'ev-forged-2', token: 'guess', chatId: 'oc_chat_2', text: 'hi' }),
      ),
    );
    const staleSignature = await postFeishu(
      feishuDelivery(payload('ev-stale-1'), { timestampS: Math.floor(Date.now() / 1000) - 3_600 }),
    );
    const staleEvent = await postFeishu(feishuDelivery(payload('ev-stale-2', Date.now() - 3_600_000)));
    const unsigned = await post(
      '/v1/channels/feishu/lark-acme/events',
      JSON.stringify({ encrypt: feishuEncrypt(ENCRYPT_KEY, payload('ev-unsigned')) }),
      { 'content-type': 'application/json' },
    );
    const replayed = await postFeishu(
      feishuDelivery(
        feishuMessageEvent({
          eventId: 'ev-feishu-1',
          token: VERIFICATION_TOKEN,
          chatId: 'oc_chat_1',
          text: 'Where is my order?',
        }),
      ),
    );

    expect([forgedSignature, wrongToken, unsigned].map(({ status, body }) => [status, body.code])).toEqual([
      [401, 'webhook-unauthorized'],
      [401, 'webhook-unauthorized'],
      [401, 'webhook-unauthorized'],
    ]);
    expect([staleSignature, staleEvent].map(({ status, body }) => [status, body.code])).toEqual([
      [400, 'webhook-stale'],
      [400, 'webhook-stale'],
    ]);
    expect(replayed.status).toBe(200);
    await holdsFor('nothing written and nothing sent', async () => (await storedEvents()) === before, {
      durationMs: 2_000,
      intervalMs: 250,
    });
    expect(sentTo('receive_id', 'oc_chat_2')).toHaveLength(0);
    expect(sentTo('receive_id', 'oc_chat_1')).toHaveLength(1);
    const log = readFileSync(join(stack.logDir, 'gateway.log'), 'utf8');
    expect(log.match(/webhook delivery rejected/g)?.length).toBeGreaterThanOrEqual(5);
    expect(log).toContain('"result":"replayed"');
  });
});

describe('Telegram bot webhook', () => {
  it('a valid update delivered twice gives one turn and one sendMessage, retried through platform failures', async () => {
    const update = telegramUpdate({ updateId: 9001, chatId: 4242, text: '我的包裹到哪了？' });
    platform.failNext(2); // the first two sends fail: the reply is retried under the same delivery

    const answers = await Promise.all([postTelegram(update), postTelegram(update)]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    await waitFor('the reply sent to the chat', () => sentTo('chat_id', '4242').length > 0, {
      timeoutMs: 90_000,
    });
    await holdsFor('one reply only', () => sentTo('chat_id', '4242').length === 1, { durationMs: 3_000 });
    expect(sentTo('chat_id', '4242')[0]?.body).toMatchObject({ text: MODEL_REPLY });
    expect(await turnsOf(chatConversation('tg-acme', '4242'))).toEqual({ messages: 1, completions: 1 });
  });

  it('a wrong secret token or a stale message is refused and writes nothing', async () => {
    const before = await storedEvents();

    const forged = await postTelegram(
      telegramUpdate({ updateId: 9002, chatId: 4343, text: 'hi' }),
      'tg-secret-acmf',
    );
    const missing = await post(
      '/v1/channels/telegram/tg-acme/webhook',
      JSON.stringify(telegramUpdate({ updateId: 9003, chatId: 4343, text: 'hi' })),
      { 'content-type': 'application/json' },
    );
    const stale = await postTelegram(
      telegramUpdate({ updateId: 9004, chatId: 4343, text: 'hi', dateMs: Date.now() - 3_600_000 }),
    );
    const replayed = await postTelegram(
      telegramUpdate({ updateId: 9001, chatId: 4242, text: '我的包裹到哪了？' }),
    );

    expect([forged, missing, stale].map(({ status, body }) => [status, body.code])).toEqual([
      [401, 'webhook-unauthorized'],
      [401, 'webhook-unauthorized'],
      [400, 'webhook-stale'],
    ]);
    expect(replayed.status).toBe(200);
    await holdsFor('nothing written', async () => (await storedEvents()) === before, {
      durationMs: 2_000,
      intervalMs: 250,
    });
    expect(sentTo('chat_id', '4343')).toHaveLength(0);
    expect(sentTo('chat_id', '4242')).toHaveLength(1);
  });
});
