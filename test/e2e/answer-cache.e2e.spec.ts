/**
 * The tenant answer cache on the real stack: the second time a tenant's customers ask the same FAQ
 * question (written differently), the reply comes from the cache with no model call and says so; another
 * tenant's identical question goes to the model; a knowledge document upload empties the tenant's cache.
 * The model is the fixed-latency server of bench/, in process, so its calls can be counted.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createFixedLatencyServer } from '@bench/fixed-latency-model';
import { VectorIndex } from '@libs/knowledge-search';
import { GatewayClient, type GatewaySocket } from '@libs/client';
import {
  E2eStack,
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(300_000);

const knowledgeIndex = `e2e_cache_${randomBytes(4).toString('hex')}`;
const basePort = Number(process.env.E2E_BASE_PORT ?? 4700);
const QUESTION = 'What is the warranty on the vacuum?';
/** The same question in other width, case, spacing and punctuation. */
const SAME_QUESTION = 'ＷＨＡＴ is the  warranty on the vacuum ？？';

const model = createFixedLatencyServer({
  ttftMs: 20,
  tokensPerSecond: 200,
  replyTokens: 11,
  model: 'fixed-latency',
});
let stack: E2eStack;
let db: TestDatabase;
let services: ServiceProcesses;
type Tenant = 'acme' | 'globex';
const TENANTS: Tenant[] = ['acme', 'globex'];
const keys: Partial<Record<Tenant, string>> = {};
const clients: Partial<Record<Tenant, { client: GatewayClient; socket: GatewaySocket | null }>> = {};

function clientOf(tenant: Tenant): { client: GatewayClient; socket: GatewaySocket | null } {
  const found = clients[tenant];
  if (found === undefined) throw new Error(`no client for ${tenant}`);
  return found;
}

/** Model calls that generated a reply to `text` (classification and embeddings are other requests). */
const replyCallsFor = (text: string) => model.stats.filter((call) => call.stream && call.key === text).length;

async function ask(tenant: Tenant, text: string) {
  const entry = clientOf(tenant);
  const { client } = entry;
  const socket = (entry.socket ??= await client.connect());
  const { conversationId } = await client.startConversation({ channel: 'web', locale: 'en-US' });
  await socket.subscribe(conversationId);
  const { messageId } = await client.sendMessage(conversationId, text);
  const reply = await socket.waitForReply(messageId, { timeoutMs: 90_000 });
  const events = await client.allEvents(conversationId);
  return {
    conversationId,
    reply,
    hit: events.find((event) => event.type === 'conversation.answer-cache-hit.v1'),
  };
}

/** The tenant's usable cache entries, in sessions' table. */
async function cachedAnswers(tenant: Tenant): Promise<number> {
  const rows: { count: string }[] = await db.dataSource.query(
    'SELECT count(*) AS count FROM sessions_answer_cache WHERE tenant_id = $1 AND completed',
    [tenant],
  );
  return Number(rows[0]?.count ?? 0);
}

beforeAll(async () => {
  stack = await E2eStack.create('cache', ['ELASTICSEARCH_URL', 'MILVUS_ADDRESS']);
  ({ db } = stack);
  await new Promise<void>((resolve) => model.server.listen(0, '127.0.0.1', resolve));
  const modelPort = (model.server.address() as AddressInfo).port;
  for (const tenant of TENANTS) {
    // An agent's key: it chats and manages the knowledge base.
    keys[tenant] = await createTenantWithKey(db.dataSource, tenant, 'agent');
    // One slot-free intent whose example is the question: a pure FAQ turn, classified on the fast path.
    await answerEveryMessage(db.dataSource, tenant, [QUESTION]);
  }
  services = stack.services(basePort, {
    LLM_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
    LLM_MODEL: 'fixed-latency',
    LLM_FALLBACK_BASE_URL: '',
    KNOWLEDGE_INDEX: knowledgeIndex,
    RETRIEVAL_URL: `http://127.0.0.1:${basePort + 3}`,
    BREAKER_TIMEOUT_MS: '5000',
  });
  await services.startAll();
  for (const tenant of TENANTS) {
    clients[tenant] = {
      client: new GatewayClient(services.url('gateway'), keys[tenant] ?? ''),
      socket: null,
    };
  }
});

afterAll(async () => {
  for (const entry of Object.values(clients)) entry.socket?.close();
  await new Promise((resolve) => model.server.close(resolve));
  await stack?.stop();
  await fetch(`${process.env.ELASTICSEARCH_URL}/${knowledgeIndex}`, { method: 'DELETE' });
  const milvus = new VectorIndex(process.env.MILVUS_ADDRESS ?? '', knowledgeIndex, 0);
  await milvus.drop();
  await milvus.close();
});

describe('the tenant answer cache', () => {
  it('answers the same question in another conversation of the tenant from the cache, with no model call', async () => {
    const first = await ask('acme', QUESTION);
    expect(first.hit).toBeUndefined();
    expect(replyCallsFor(QUESTION)).toBe(1);

    const second = await ask('acme', SAME_QUESTION);

    expect(replyCallsFor(SAME_QUESTION)).toBe(0);
    expect(second.reply.data.text).toBe(first.reply.data.text);
    expect(second.reply.data.parts).toEqual([
      { backend: 'answer-cache', model: 'answer-cache', start: 0, end: first.reply.data.text.length },
    ]);
    expect(second.hit?.data).toMatchObject({
      sourceConversationId: first.conversationId,
      sourceTurnId: first.reply.data.turnId,
    });
    const metrics = await (await fetch(`${services.url('sessions')}/metrics`)).text();
    expect(metrics).toMatch(/^convo_answer_cache_lookups_total\{result="miss",service="sessions"\} 1$/m);
    expect(metrics).toMatch(/^convo_answer_cache_lookups_total\{result="hit",service="sessions"\} 1$/m);
  });

  it('never serves another tenant’s identical question from it', async () => {
    const other = await ask('globex', QUESTION);

    expect(other.hit).toBeUndefined();
    expect(replyCallsFor(QUESTION)).toBe(2);
  });

  it('is not used after the tenant uploads a knowledge document', async () => {
    expect(await cachedAnswers('acme')).toBeGreaterThan(0);
    const content = new TextEncoder().encode('# Warranty\n\nEvery vacuum has a two-year warranty.\n');
    await clientOf('acme').client.uploadDocument('warranty', {
      title: 'Warranty',
      mediaType: 'text/markdown',
      content,
    });
    await waitFor(
      'the warranty document indexed',
      async () => (await clientOf('acme').client.getDocument('warranty')).status === 'indexed',
      { timeoutMs: 120_000, intervalMs: 200 },
    );

    // The excerpts retrieved now differ too, which alone changes the key: the emptied cache is what
    // shows the invalidation itself (and only of this tenant).
    await waitFor('acme’s cache emptied', async () => (await cachedAnswers('acme')) === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(await cachedAnswers('globex')).toBeGreaterThan(0);

    const after = await ask('acme', SAME_QUESTION);

    expect(after.hit).toBeUndefined();
    expect(replyCallsFor(SAME_QUESTION)).toBe(1);
  });
});
