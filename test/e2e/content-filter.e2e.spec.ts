/**
 * The tenant's sensitive-word list on the real stack, both directions: an admin replaces the list over
 * the API (no restart); obfuscated listed words in customer messages are masked (202), blocked (422,
 * flagged) or hand the conversation to a human; a bot reply containing a listed phrase is stopped
 * mid-stream and replaced before any of the phrase reaches the WebSocket; a human agent's messages are
 * masked or refused as a customer's are. The model is the fixed-latency server of bench/ (in this
 * process), whose reply ("Thanks for waiting, your order is on its way.") is known, so a listed phrase
 * is sure to come up; the list spells it in full-width capitals with ideographic spaces.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFixedLatencyServer } from '@bench/fixed-latency-model';
import { GatewayClient, GatewayError, type GatewaySocket } from '@libs/client';
import { REPLACED_REPLY } from '@libs/content-filter';
import { TenantRepository } from '@libs/event-store';
import {
  E2eStack,
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  holdsFor,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(240_000);

const basePort = Number(process.env.E2E_BASE_PORT ?? 4100);
const modelPort = basePort + 9;
let stack: E2eStack;
let db: TestDatabase;
let services: ServiceProcesses;
const model = createFixedLatencyServer({
  ttftMs: 20,
  tokensPerSecond: 100,
  replyTokens: 22,
  model: 'fixed-latency',
});
let admin: GatewayClient;
let frontend: GatewayClient;
let socket: GatewaySocket;

const LIST = {
  actions: { 'contact-diversion': 'mask', politics: 'block', fraud: 'handoff', competitor: 'block' },
  entries: [
    { word: '加微信', category: 'contact-diversion' },
    { word: '刷单返利', category: 'politics' },
    { word: '私下转账', category: 'fraud' },
    // The fixed-latency model's reply contains "order is on"; listed obfuscated, found plain.
    { word: 'ＯＲＤＥＲ\u3000ＩＳ\u3000ＯＮ', category: 'competitor' },
  ],
} as const;

beforeAll(async () => {
  stack = await E2eStack.create('filter', ['EMBEDDINGS_BASE_URL']);
  ({ db } = stack);
  const adminKey = await createTenantWithKey(db.dataSource, 'acme', 'admin');
  const frontendKey = (await new TenantRepository(db.dataSource).issueApiKey('acme', '', 'frontend')).apiKey;
  await answerEveryMessage(db.dataSource, 'acme', ['Where is my order?', '我的包裹到哪了？']);
  await new Promise<void>((resolve) => model.server.listen(modelPort, '127.0.0.1', resolve));
  services = stack.services(basePort, {
    LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
    LLM_MODEL: 'fixed-latency',
    LLM_FALLBACK_BASE_URL: '',
    // Small chunks, so the reply streams in several events before the listed phrase.
    CHUNK_FLUSH_MS: '10',
    CHUNK_MAX_CHARS: '8',
    CONTENT_FILTER_REFRESH_MS: '500',
  });
  await services.startAll();
  admin = new GatewayClient(services.url('gateway'), adminKey);
  frontend = new GatewayClient(services.url('gateway'), frontendKey);
  socket = await frontend.connect();
});

afterAll(async () => {
  socket?.close();
  await new Promise((resolve) => model.server.close(resolve));
  await stack?.stop();
});

async function refusal(call: Promise<unknown>): Promise<GatewayError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('the call was expected to be refused');
}

describe('the sensitive-word filter on the real stack', () => {
  it('an admin replaces the list; the gateway reports what it compiled to, never the words', async () => {
    expect(await admin.getContentFilter()).toMatchObject({ version: 0, words: 0 });

    const view = await admin.replaceContentFilter({
      actions: { ...LIST.actions },
      entries: [...LIST.entries],
    });

    expect(view).toMatchObject({ words: 4, categories: expect.arrayContaining(['politics', 'fraud']) });
    expect(view.version).toBeGreaterThan(0);
    expect(JSON.stringify(view)).not.toMatch(/微信|返利/);
    expect((await refusal(frontend.getContentFilter())).status).toBe(403);
  });

  it('a customer’s obfuscated contact word is masked before it is stored; the bot’s listed phrase is replaced mid-stream', async () => {
    const { conversationId } = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });
    await socket.subscribe(conversationId);

    const { messageId } = await frontend.sendMessage(
      conversationId,
      '你好，请 加 微.信 聊，Where is my order?',
    );

    const reply = await socket.waitForReply(messageId, { timeoutMs: 90_000 });
    const events = await frontend.allEvents(conversationId);
    const received = events.find((event) => event.type === 'conversation.message-received.v1');
    expect(received?.data).toMatchObject({ text: '你好，请 ***** 聊，Where is my order?' });
    const flags = events.filter((event) => event.type === 'conversation.content-flagged.v1');
    expect(flags.map((flag) => flag.data)).toEqual([
      expect.objectContaining({
        direction: 'inbound',
        messageId,
        action: 'mask',
        categories: ['contact-diversion'],
      }),
      expect.objectContaining({
        direction: 'outbound',
        turnId: reply.data.turnId,
        action: 'block',
        categories: ['competitor'],
      }),
    ]);
    // What the customer saw streamed: the clean start of the reply, never the listed phrase.
    const streamed = socket
      .events(conversationId)
      .filter((event) => event.type === 'conversation.reply-chunk-generated.v1')
      .map((event) => (event.data as { text: string }).text)
      .join('');
    expect(streamed.length).toBeGreaterThan(0);
    expect('Thanks for waiting, your '.startsWith(streamed)).toBe(true);
    expect(reply.data).toMatchObject({ text: REPLACED_REPLY.block, finishReason: 'content_filter' });
  });

  it('a blocked customer message is refused with 422, recorded only as a flag, and a retry records nothing twice', async () => {
    const { conversationId } = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });
    const send = () =>
      frontend.sendMessage(conversationId, '这里可以 刷.單-返 利 吗', { clientMessageId: 'blocked-1' });

    const first = await refusal(send());
    const again = await refusal(send());

    for (const error of [first, again]) {
      expect(error.status).toBe(422);
      expect(error.code).toBe('content-blocked');
      expect(error.problem).toMatchObject({ categories: ['politics'] });
    }
    const events = await frontend.allEvents(conversationId);
    expect(events.filter((event) => event.type === 'conversation.message-received.v1')).toHaveLength(0);
    expect(
      events.filter((event) => event.type === 'conversation.content-flagged.v1').map((event) => event.data),
    ).toEqual([expect.objectContaining({ direction: 'inbound', action: 'block', categories: ['politics'] })]);
  });

  it('a message in a handoff category goes to a human: masked, flagged, the bot silent', async () => {
    const { conversationId } = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });

    await frontend.sendMessage(conversationId, '我们可以私下轉賬吗？');

    const view = await waitFor('the handoff', async () => {
      const current = await frontend.getConversation(conversationId);
      return current.status === 'handed-off' ? current : undefined;
    });
    expect(view.handoff).toMatchObject({ reason: 'content-filter' });
    expect(view.transcript.map((entry) => entry.text)).toEqual(['我们可以****吗？']);
    await holdsFor(
      'the bot staying silent',
      async () =>
        (await frontend.allEvents(conversationId)).every(
          (event) =>
            event.type !== 'conversation.reply-requested.v1' &&
            event.type !== 'conversation.bot-message-sent.v1',
        ),
      { durationMs: 3_000, intervalMs: 500 },
    );
  });

  it('an agent’s message is screened as a customer’s: masked and flagged, or refused with 422 (block, and handoff too)', async () => {
    const { conversationId } = await frontend.startConversation({ channel: 'web', locale: 'zh-CN' });
    await socket.subscribe(conversationId);
    await frontend.sendMessage(conversationId, '我们可以私下转账吗？');
    await waitFor('the handoff', async () =>
      (await frontend.getConversation(conversationId)).status === 'handed-off' ? true : undefined,
    );

    const { messageId } = await frontend.sendAgentMessage(
      conversationId,
      'agent-7',
      '您可以 加.微 信 联系我',
    );
    const blocked = await refusal(frontend.sendAgentMessage(conversationId, 'agent-7', '这单可以刷单返利'));
    const handoffWord = await refusal(frontend.sendAgentMessage(conversationId, 'agent-7', '私下 轉賬 更快'));

    for (const [error, category] of [
      [blocked, 'politics'],
      [handoffWord, 'fraud'],
    ] as const) {
      expect(error.status).toBe(422);
      expect(error.code).toBe('content-blocked');
      expect(error.problem).toMatchObject({ categories: [category] });
    }
    const sent = await waitFor('the masked agent message on the WebSocket', () =>
      socket.events(conversationId).find((event) => event.type === 'conversation.agent-message-sent.v1'),
    );
    expect(sent.data).toMatchObject({ messageId, text: '您可以 ***** 联系我' });
    const events = await frontend.allEvents(conversationId);
    expect(events.filter((event) => event.type === 'conversation.agent-message-sent.v1')).toHaveLength(1);
    expect(
      events
        .filter((event) => event.type === 'conversation.content-flagged.v1')
        .map((event) => event.data)
        .filter((data) => data.direction === 'outbound'),
    ).toEqual([
      expect.objectContaining({ messageId, turnId: null, action: 'mask', categories: ['contact-diversion'] }),
      expect.objectContaining({ turnId: null, action: 'block', categories: ['politics'] }),
      expect.objectContaining({ turnId: null, action: 'block', categories: ['fraud'] }),
    ]);
    expect((await frontend.getConversation(conversationId)).status).toBe('handed-off');
  });

  it('no service logged a listed word or the customers’ obfuscated spellings of them', () => {
    const logs = readdirSync(stack.logDir).map((file) => readFileSync(join(stack.logDir, file), 'utf8'));
    expect(logs.length).toBe(5);
    for (const log of logs) {
      for (const word of [
        '加微信',
        '微.信',
        '刷单返利',
        '刷.單',
        '私下转账',
        '私下轉賬',
        '私下 轉賬',
        'ＯＲＤＥＲ',
      ]) {
        expect(log).not.toContain(word);
      }
    }
  });
});
