/**
 * The OpenAI-compatible facade and the rate limits end to end (issue 11, parts 1 and 3): OpenAI's own
 * client libraries for Node and Python (PyPI, installed on first use) complete streamed and unstreamed
 * chats through the gateway; the conversations they create are visible over REST, replayable through
 * the state route and audited like any other. Conversation mapping (header, `user`, one turn),
 * idempotent retries, OpenAI-shaped errors, and a tenant over its limit refused with 429 and
 * Retry-After while another tenant is served.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import { GatewayClient } from '@libs/client';
import {
  E2eStack,
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  ensureOpenAiPython,
  runOpenAiPython,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(600_000);

const basePort = Number(process.env.E2E_BASE_PORT ?? 4760);
const PYTHON_SCRIPT = join(__dirname, 'openai-facade', 'chat_through_facade.py');
let stack: E2eStack;
let db: TestDatabase;
let services: ServiceProcesses;
let acmeKey: string;
let acme: GatewayClient;
let acmeOpenAi: OpenAI;
let globexKey: string;
let globexAdminKey: string;
let analystKey: string;

beforeAll(async () => {
  stack = await E2eStack.create('openai', ['LLM_BASE_URL']);
  ({ db } = stack);
  acmeKey = await createTenantWithKey(db.dataSource, 'acme');
  analystKey = await createTenantWithKey(db.dataSource, 'acme', 'analyst');
  globexKey = await createTenantWithKey(db.dataSource, 'globex');
  globexAdminKey = await createTenantWithKey(db.dataSource, 'globex', 'admin');
  // Every message ends in a model reply (one slot-free intent): this suite is about the facade's plumbing.
  const examples = ['Do you ship to Canada?', 'How long does delivery take?', '你好，能开发票吗'];
  await answerEveryMessage(db.dataSource, 'acme', examples);
  await answerEveryMessage(db.dataSource, 'globex', examples);
  services = stack.services(basePort, {
    REPLY_MAX_TOKENS: '48',
    LLM_TEMPERATURE: '0',
    // The local model server is shared with other suites: a slow first token is no failure of the facade.
    LLM_FIRST_TOKEN_TIMEOUT_MS: '90000',
    LLM_STALL_TIMEOUT_MS: '60000',
    AUDIT_TREE_HEAD_INTERVAL_MS: '500',
  });
  // Installed while the services start (the first run downloads it from PyPI).
  await Promise.all([services.startAll(), ensureOpenAiPython()]);
  acme = new GatewayClient(services.url('gateway'), acmeKey);
  acmeOpenAi = openAiClient(acmeKey);
});

afterAll(async () => {
  await stack?.stop();
});

/** Retries are the client's business elsewhere; here a 429 or 5xx must reach the test as it came. */
function openAiClient(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${services.url('gateway')}/v1`, apiKey, maxRetries: 0, timeout: 300_000 });
}

/** The conversation is visible, replayable and audited like any conversation opened over REST. */
async function expectAnEngineConversation(conversationId: string, customerTexts: string[]): Promise<void> {
  const view = await acme.getConversation(conversationId);
  expect(view.tenantId).toBe('acme');
  expect(view.transcript.filter((entry) => entry.role === 'customer').map((entry) => entry.text)).toEqual(
    customerTexts,
  );
  expect(view.transcript.filter((entry) => entry.role === 'assistant')).toHaveLength(customerTexts.length);

  const events = await acme.allEvents(conversationId);
  const replayed = await acme.getState(conversationId);
  expect(replayed.at).toBe(events.length);
  expect(replayed.status).toBe(view.status);
  expect(events.filter((event) => event.type === 'conversation.reply-completed.v2')).toHaveLength(
    customerTexts.length,
  );

  await waitFor('the conversation’s events in the audit log', async () => {
    const rows: { event_id: string }[] = await db.dataSource.query(
      `SELECT event_id FROM audit_log_entries WHERE tenant_id = 'acme' AND event_id = ANY($1)`,
      [events.map((event) => event.eventId)],
    );
    return rows.length === events.length;
  });
}

function assistantTexts(view: { transcript: { role: string; text: string }[] }): string[] {
  return view.transcript.filter((entry) => entry.role === 'assistant').map((entry) => entry.text);
}

describe('the OpenAI facade with the official Node client', () => {
  const conversationId = randomUUID();

  it('lists the engine as the one model', async () => {
    const models = await acmeOpenAi.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['convo-engine']);
    expect((await acmeOpenAi.models.retrieve('convo-engine')).id).toBe('convo-engine');
  });

  it('completes an unstreamed chat in the conversation X-Conversation-Id names, created on first use', async () => {
    const { data: completion, response } = await acmeOpenAi.chat.completions
      .create(
        { model: 'convo-engine', messages: [{ role: 'user', content: 'Do you ship to Canada?' }] },
        { headers: { 'X-Conversation-Id': conversationId } },
      )
      .withResponse();

    expect(response.headers.get('x-conversation-id')).toBe(conversationId);
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(assistantTexts(await acme.getConversation(conversationId))).toEqual([
      completion.choices[0]?.message.content,
    ]);
  });

  it('streams the next turn of the same conversation as chat.completion.chunks, ending in [DONE]', async () => {
    const stream = await acmeOpenAi.chat.completions.create(
      {
        model: 'convo-engine',
        messages: [
          { role: 'user', content: 'Do you ship to Canada?' },
          { role: 'assistant', content: 'Yes.' },
          { role: 'user', content: 'How long does delivery take?' },
        ],
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers: { 'X-Conversation-Id': conversationId } },
    );
    let text = '';
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    let chunks = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      usage = chunk.usage ?? usage;
    }

    expect(chunks).toBeGreaterThan(2);
    expect(finishReason).not.toBeNull();
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    // Only the last message is the customer's: the client's copy of the history is not recorded again.
    const view = await acme.getConversation(conversationId);
    expect(assistantTexts(view)[1]).toBe(text);
    await expectAnEngineConversation(conversationId, [
      'Do you ship to Canada?',
      'How long does delivery take?',
    ]);
  });

  it('maps `user` onto that user’s conversation, the same one call after call', async () => {
    const ask = (content: string) =>
      acmeOpenAi.chat.completions
        .create({ model: 'convo-engine', user: 'customer-42', messages: [{ role: 'user', content }] })
        .withResponse();
    const first = await ask('Do you ship to Canada?');
    const second = await ask('How long does delivery take?');

    const id = first.response.headers.get('x-conversation-id') ?? '';
    expect(second.response.headers.get('x-conversation-id')).toBe(id);
    await expectAnEngineConversation(id, ['Do you ship to Canada?', 'How long does delivery take?']);
  });

  it('without a conversation, makes a conversation of one turn, closed once answered', async () => {
    const { data: completion, response } = await acmeOpenAi.chat.completions
      .create({ model: 'convo-engine', messages: [{ role: 'user', content: '你好，能开发票吗' }] })
      .withResponse();

    const id = response.headers.get('x-conversation-id') ?? '';
    const view = await acme.getConversation(id);
    expect(view.status).toBe('closed');
    expect(assistantTexts(view)).toEqual([completion.choices[0]?.message.content]);
  });

  it('records a retried call with the same Idempotency-Key once, and answers it with the same reply', async () => {
    const idempotencyKey = randomUUID();
    const call = () =>
      acmeOpenAi.chat.completions
        .create(
          { model: 'convo-engine', messages: [{ role: 'user', content: 'Do you ship to Canada?' }] },
          { headers: { 'Idempotency-Key': idempotencyKey } },
        )
        .withResponse();
    const first = await call();
    const retried = await call();

    expect(retried.data.id).toBe(first.data.id);
    expect(retried.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    const id = first.response.headers.get('x-conversation-id') ?? '';
    expect(retried.response.headers.get('x-conversation-id')).toBe(id);
    const events = await acme.allEvents(id);
    expect(events.filter((event) => event.type === 'conversation.message-received.v1')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'conversation.reply-completed.v2')).toHaveLength(1);
  });

  it('answers errors in OpenAI’s shape, which the client raises as its typed errors', async () => {
    const ask = (client: OpenAI, headers: Record<string, string> = {}, model = 'convo-engine') =>
      client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] }, { headers });
    const globex = openAiClient(globexKey);

    await expect(ask(globex, { 'X-Conversation-Id': conversationId })).rejects.toMatchObject({
      status: 404,
      code: 'conversation_not_found',
      type: 'invalid_request_error',
    });
    await expect(ask(acmeOpenAi, {}, 'gpt-4o')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(ask(acmeOpenAi, {}, 'gpt-4o')).rejects.toMatchObject({
      code: 'model_not_found',
      param: 'model',
    });
    await expect(ask(openAiClient('cek_not-a-key'))).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(ask(openAiClient(analystKey))).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(
      acmeOpenAi.chat.completions.create({
        model: 'convo-engine',
        messages: [{ role: 'assistant', content: 'The last message is not the user’s' }],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'messages' });
    // Nothing was written for any of them: the foreign id is still only acme's.
    expect((await acme.getConversation(conversationId)).transcript).toHaveLength(4);
  });
});

describe('the OpenAI facade with the official Python client', () => {
  it('completes an unstreamed and a streamed chat; the conversation is the engine’s like any other', async () => {
    const conversationId = randomUUID();
    const output = await runOpenAiPython(PYTHON_SCRIPT, [
      `${services.url('gateway')}/v1`,
      acmeKey,
      conversationId,
      randomUUID(),
    ]);
    const result = JSON.parse(output) as {
      unstreamed: { conversation: string; object: string; content: string; usage: { total_tokens: number } };
      streamed: {
        deltas: string[];
        finish_reason: string | null;
        usage: { total_tokens: number };
        objects: string[];
      };
      foreign: { raised: string | null };
    };

    expect(result.unstreamed).toMatchObject({ conversation: conversationId, object: 'chat.completion' });
    expect(result.unstreamed.content.length).toBeGreaterThan(0);
    expect(result.streamed.objects).toEqual(['chat.completion.chunk']);
    expect(result.streamed.deltas.length).toBeGreaterThan(0);
    expect(result.streamed.finish_reason).not.toBeNull();
    expect(result.streamed.usage.total_tokens).toBeGreaterThan(0);
    // An id nobody holds is created on first use, so the error case is checked with the Node client.
    expect(result.foreign.raised).toBeNull();
    expect(assistantTexts(await acme.getConversation(conversationId))).toEqual([
      result.unstreamed.content,
      result.streamed.deltas.join(''),
    ]);
    await expectAnEngineConversation(conversationId, [
      'Do you ship to Canada?',
      'How long does delivery take?',
    ]);
  });
});

describe('rate limits per tenant', () => {
  const gateway = () => services.url('gateway');
  const get = (apiKey: string, path: string) =>
    fetch(`${gateway()}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });

  it('a tenant over its requests per minute gets 429 with Retry-After; another tenant is served', async () => {
    const limited = await fetch(`${gateway()}/v1/settings/limits`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${globexAdminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: { requestsPerMinute: 3 } }),
    });
    expect(limited.status).toBe(200);
    expect(await limited.json()).toMatchObject({ limits: { tenant: { requestsPerMinute: 3 } } });

    // Within one window the 4th request is refused; a window that ends meanwhile allows 3 more.
    let refused: Response | null = null;
    for (let attempt = 0; attempt < 8 && !refused; attempt++) {
      const response = await get(globexKey, '/v1/conversations?reference=globex-20260101-AAAAAAAA');
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(200);
    }
    if (!refused) throw new Error('globex was never refused');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ code: 'rate-limited', limit: 'requests', scope: 'tenant' });

    // The facade answers the same refusal in OpenAI's shape, which the client raises as RateLimitError.
    await expect(openAiClient(globexKey).models.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);

    // Another tenant's traffic is unaffected.
    const other = await get(acmeKey, '/v1/conversations?reference=acme-20260101-AAAAAAAA');
    expect(other.status).toBe(200);
    expect(Number(other.headers.get('ratelimit-remaining'))).toBeGreaterThan(0);
    expect((await acmeOpenAi.models.list()).data).toHaveLength(1);
  });

  it('counts refusals in the gateway’s metrics', async () => {
    const metrics = await (await fetch(`${gateway()}/metrics`)).text();
    expect(metrics).toMatch(
      /convo_rate_limit_decisions_total\{[^}]*limit="requests"[^}]*outcome="limited"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/convo_rate_limit_decisions_total\{[^}]*outcome="allowed"[^}]*\} [1-9]/);
  });
});
