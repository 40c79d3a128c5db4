/**
 * The gateway's edges, probed from outside as an attacker or a sloppy client would: bad bytes,
 * out-of-range positions, compressed bodies, undeclared methods, reused idempotency keys, keys in
 * URLs and revoked keys, a database outage, and a schema-driven fuzz of the whole API document.
 * The gateway and audit run as real processes on the real stack (no model calls: sessions and
 * inference stay down; retrieval joins for the fuzz, so the knowledge routes answer), with their own
 * database and topic prefix.
 */
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { MAX_STREAM_SEQUENCE, type ServerFrame as Frame } from '@contracts';
import { GatewayClient } from '@libs/client';
import { VectorIndex } from '@libs/knowledge-search';
import { TenantRepository } from '@libs/event-store';
import {
  E2eStack,
  ServiceProcesses,
  TcpProxy,
  createTenantWithKey,
  runSchemathesis,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(300_000);

/** Agents running suites side by side pick their own base port (the services take it and the next four). */
const BASE_PORT = Number(process.env.E2E_BASE_PORT ?? 4200);
/** Retrieval's index and collection for this suite alone (it runs for the fuzz only), dropped at the end. */
const knowledgeIndex = `e2e_edge_${randomBytes(4).toString('hex')}`;
let stack: E2eStack;
let prefix: string;
let db: TestDatabase;
let services: ServiceProcesses;
let tenants: TenantRepository;
let acmeKey: string;
let alice: GatewayClient;

beforeAll(async () => {
  stack = await E2eStack.create('edge');
  ({ db, prefix } = stack);
  tenants = new TenantRepository(db.dataSource);
  acmeKey = await createTenantWithKey(db.dataSource, 'edge-acme');
  services = stack.services(BASE_PORT, {
    // Small, so a revoked key's sockets close within the test's patience.
    API_KEY_CACHE_TTL_MS: '1500',
    RETRIEVAL_URL: `http://127.0.0.1:${BASE_PORT + 3}`,
    KNOWLEDGE_INDEX: knowledgeIndex,
  });
  services.start('gateway');
  services.start('audit');
  await Promise.all([services.waitReady('gateway'), services.waitReady('audit')]);
  alice = new GatewayClient(services.url('gateway'), acmeKey);
});

afterAll(async () => {
  await stack?.stop();
  await fetch(`${process.env.ELASTICSEARCH_URL}/${knowledgeIndex}`, { method: 'DELETE' }).catch(() => null);
  const milvus = new VectorIndex(process.env.MILVUS_ADDRESS ?? '', knowledgeIndex, 0);
  await milvus.drop().catch(() => null);
  await milvus.close();
});

interface RawResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function open(client: GatewayClient): Promise<string> {
  return (await client.startConversation()).conversationId;
}

/** A request with exact bytes and headers, beyond what GatewayClient sends. */
async function raw(
  method: string,
  path: string,
  {
    body,
    headers = {},
    apiKey = acmeKey,
  }: { body?: Buffer | string; headers?: Record<string, string>; apiKey?: string | null } = {},
): Promise<RawResponse> {
  const response = await fetch(`${services.url('gateway')}${path}`, {
    method,
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    body,
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsed: text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

async function eventCount(): Promise<number> {
  const [row] = await db.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM events');
  return row?.n ?? 0;
}

function expectProblem(response: RawResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
}

function gatewayLog(dir = stack.logDir): string {
  return readFileSync(join(dir, 'gateway.log'), 'utf8');
}

/** Opens a socket with the key in the Authorization header; resolves once open. */
async function openSocket(apiKey: string, baseUrl = services.url('gateway')): Promise<WebSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

function nextFrame(ws: WebSocket): Promise<Frame> {
  return new Promise((resolve) =>
    ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Frame)),
  );
}

describe('request bodies', () => {
  let conversationId: string;

  beforeAll(async () => {
    conversationId = await open(alice);
  });

  it('refuses bytes that are not UTF-8 with 400 invalid-encoding, and stores nothing', async () => {
    const before = await eventCount();
    const prefixBytes = Buffer.from('{"text":"caf', 'utf8');
    for (const bad of [Buffer.from([0xe9]), Buffer.from([0xff, 0xfe]), Buffer.from([0xe4, 0xbd])]) {
      const body = Buffer.concat([prefixBytes, bad, Buffer.from('"}', 'utf8')]);
      const response = await raw('POST', `/v1/conversations/${conversationId}/messages`, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(response, 400, 'invalid-encoding');
    }
    expect(await eventCount()).toBe(before);
  });

  it('refuses a JSON body in another charset than UTF-8 with 415', async () => {
    const response = await raw('POST', `/v1/conversations/${conversationId}/messages`, {
      body: Buffer.from('{"text":"hi"}', 'utf16le'),
      headers: { 'content-type': 'application/json; charset=utf-16' },
    });
    expectProblem(response, 415, 'unsupported-media-type');
  });

  it.each([
    ['gzip on a plain body', 'gzip', Buffer.from('{"text":"hi"}')],
    ['br on a plain body', 'br', Buffer.from('{"text":"hi"}')],
    ['a real gzip body', 'gzip', gzipSync('{"text":"hi"}')],
    ['deflate', 'deflate', Buffer.from('{"text":"hi"}')],
  ])('refuses %s with 415, with or without a key, and writes nothing', async (_label, encoding, body) => {
    const before = await eventCount();
    for (const apiKey of [acmeKey, null]) {
      const response = await raw('POST', `/v1/conversations/${conversationId}/messages`, {
        body,
        apiKey,
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
      expectProblem(response, 415, 'unsupported-media-type');
    }
    expect(await eventCount()).toBe(before);
  });
});

describe('bounds declared and enforced alike', () => {
  let conversationId: string;
  let document: {
    paths: Record<
      string,
      Record<string, { parameters?: { name: string; schema: Record<string, unknown> }[] }>
    >;
  };

  beforeAll(async () => {
    conversationId = await open(alice);
    document = (await (
      await fetch(`${services.url('gateway')}/docs/openapi.json`)
    ).json()) as typeof document;
  });

  const declared = (path: string, method: string, name: string) =>
    document.paths[path]?.[method]?.parameters?.find(
      (parameter) => parameter.name.toLowerCase() === name.toLowerCase(),
    )?.schema;

  it('`after` up to the declared maximum pages; beyond it is a 400, not a 500', async () => {
    // 2^31 was the finding (a 32-bit column); positions are 64-bit now, bounded by JSON's exact integers.
    for (const after of [2 ** 31, MAX_STREAM_SEQUENCE]) {
      const page = await raw('GET', `/v1/conversations/${conversationId}/events?after=${after}`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ events: [], nextAfter: null });
    }
    for (const after of [MAX_STREAM_SEQUENCE + 1, 2 ** 63]) {
      expectProblem(
        await raw('GET', `/v1/conversations/${conversationId}/events?after=${after}`),
        400,
        'validation-failed',
      );
    }
    expect(declared('/v1/conversations/{id}/events', 'get', 'after')).toMatchObject({
      maximum: MAX_STREAM_SEQUENCE,
    });
  });

  it('an Idempotency-Key over the declared 128 characters, or not visible ASCII, is a 400', async () => {
    const before = await eventCount();
    for (const key of ['k'.repeat(129), 'key with spaces', '']) {
      const response = await raw('POST', `/v1/conversations/${conversationId}/messages`, {
        body: JSON.stringify({ text: 'hi' }),
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
      });
      expectProblem(response, 400, 'validation-failed');
    }
    expect(await eventCount()).toBe(before);
    const accepted = await raw('POST', `/v1/conversations/${conversationId}/messages`, {
      body: JSON.stringify({ text: 'hi' }),
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(128) },
    });
    expect(accepted.status).toBe(202);
    expect(declared('/v1/conversations/{id}/messages', 'post', 'Idempotency-Key')).toMatchObject({
      maxLength: 128,
    });
  });

  it('another method on a declared path is a 405 problem with Allow, before auth or body parsing', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', `/v1/conversations/${conversationId}`, 'GET, HEAD'],
      ['PUT', '/v1/conversations', 'GET, POST, HEAD'],
      ['PATCH', `/v1/conversations/${conversationId}/messages`, 'POST'],
      ['GET', `/v1/conversations/${conversationId}/close`, 'POST'],
      ['POST', `/v1/conversations/${conversationId}/events`, 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      for (const apiKey of [acmeKey, null]) {
        const response = await raw(method, path, {
          apiKey,
          ...(method === 'GET' ? {} : { body: '{', headers: { 'content-type': 'application/json' } }),
        });
        expectProblem(response, 405, 'method-not-allowed');
        expect(response.headers.get('allow')).toBe(allow);
      }
    }
    expect((await raw('GET', '/v1/nowhere')).status).toBe(404);
  });

  it('a malformed percent-encoding in the path is a 400 problem, not a 500', async () => {
    expectProblem(await raw('GET', '/v1/conversations/%E0%A4%A'), 400, 'validation-failed');
  });
});

describe('idempotency keys', () => {
  it('the same key with the same text is one message; with another text a 422 that stores nothing', async () => {
    const conversationId = await open(alice);
    const path = `/v1/conversations/${conversationId}/messages`;
    const first = await alice.request('POST', path, {
      json: { text: 'Where is my parcel?', clientMessageId: 'retry-1' },
    });
    const again = await alice.request('POST', path, {
      json: { text: 'Where is my parcel?', clientMessageId: 'retry-1' },
    });
    expect(first.status).toBe(202);
    expect(again).toMatchObject({
      status: 202,
      body: { messageId: (first.body as { messageId: string }).messageId },
    });

    const before = await eventCount();
    const reused = await alice.request('POST', path, {
      json: { text: 'Cancel my order', clientMessageId: 'retry-1' },
    });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({
      code: 'idempotency-key-reused',
      type: '/problems/idempotency-key-reused',
    });
    const viaHeader = await alice.request('POST', path, {
      json: { text: 'Cancel my order' },
      headers: { 'idempotency-key': 'retry-1' },
    });
    expect(viaHeader.status).toBe(422);
    expect(await eventCount()).toBe(before);
  });
});

describe('the WebSocket', () => {
  it('refuses afterSequence past the end of the stream with an error naming the version, and stays usable', async () => {
    const conversationId = await open(alice);
    // Started and its reference assigned: the stream's version is that of the view.
    const { version } = await alice.getConversation(conversationId);
    const ws = await openSocket(acmeKey);
    ws.send(JSON.stringify({ type: 'subscribe', conversationId, afterSequence: 99 }));
    const refused = await nextFrame(ws);
    expect(refused).toMatchObject({ type: 'error', code: 'validation-failed', conversationId });
    expect(refused.type === 'error' ? refused.detail : '').toContain(`(version ${version})`);

    ws.send(JSON.stringify({ type: 'subscribe', conversationId, afterSequence: MAX_STREAM_SEQUENCE + 1 }));
    expect(await nextFrame(ws)).toMatchObject({ type: 'error', code: 'validation-failed' });

    ws.send(JSON.stringify({ type: 'subscribe', conversationId, afterSequence: version }));
    expect(await nextFrame(ws)).toMatchObject({ type: 'subscribed', conversationId });
    const live = nextFrame(ws);
    await alice.sendMessage(conversationId, 'still listening?');
    expect(await live).toMatchObject({ type: 'event', event: { sequence: version + 1 } });
    ws.close();
  });

  it('closes a socket whose key is revoked, with 4401, as REST refuses the key', async () => {
    const issued = await tenants.issueApiKey('edge-acme', 'to be revoked');
    const ws = await openSocket(issued.apiKey);
    let closed: { code: number; reason: string } | undefined;
    ws.once('close', (code, reason) => (closed = { code, reason: reason.toString() }));
    const other = await openSocket(acmeKey);
    expect(await tenants.revokeApiKey(issued.keyId)).toBe(true);

    expect(await waitFor('the socket to close', () => closed)).toEqual({
      code: 4401,
      reason: 'API key revoked',
    });
    expect(
      (await raw('GET', '/v1/conversations/00000000-0000-4000-8000-000000000000', { apiKey: issued.apiKey }))
        .status,
    ).toBe(401);
    expect(other.readyState).toBe(WebSocket.OPEN);
    other.close();
  });
});

describe('secrets and tenants stay out of logs and metrics', () => {
  it('never writes a key sent as ?api_key= to the gateway log', async () => {
    const conversationId = await open(alice);
    await raw('GET', `/v1/conversations/${conversationId}?api_key=${encodeURIComponent(acmeKey)}`);
    await raw('GET', `/v1/conversations/${conversationId}/events?api_key=${encodeURIComponent(acmeKey)}`);
    await raw(
      'GET',
      `/v1/conversations/${conversationId}/events?after=abc&api_key=${encodeURIComponent(acmeKey)}`,
      {
        apiKey: null,
      },
    );
    const browser = new WebSocket(
      `${services.url('gateway').replace(/^http/, 'ws')}/v1/ws?api_key=${encodeURIComponent(acmeKey)}`,
    );
    await new Promise((resolve, reject) => {
      browser.once('open', resolve);
      browser.once('error', reject);
    });
    browser.close();

    await waitFor('the last request in the gateway log', () => gatewayLog().includes('after=abc'));
    expect(gatewayLog()).not.toContain(acmeKey);
    expect(gatewayLog()).not.toContain(acmeKey.slice(4));
  });

  it("audit's unauthenticated /metrics counts events without naming tenants", async () => {
    const conversationId = await open(alice);
    await alice.sendMessage(conversationId, 'count me');
    const metrics = await waitFor('audit to project the events', async () => {
      const text = await (await fetch(`${services.url('audit')}/metrics`)).text();
      return (
        /convo_projection_events_total\{[^}]*projection="audit\.conversation-summaries"[^}]*\} [1-9]/.test(
          text,
        ) && text
      );
    });
    expect(metrics).not.toMatch(/tenant="/);
    expect(metrics).not.toContain('edge-acme');
  });
});

describe('a database outage', () => {
  let proxy: TcpProxy;
  let proxied: ServiceProcesses;
  const proxiedLogDir = () => `${stack.logDir}/proxied`;

  beforeAll(async () => {
    const target = new URL(db.url);
    proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    proxied = new ServiceProcesses(
      {
        ...process.env,
        DATABASE_URL: proxy.via(db.url),
        KAFKA_TOPIC_PREFIX: prefix,
        GATEWAY_INSTANCE_ID: 'edge-proxied',
        LOG_LEVEL: 'info',
        KAFKA_SESSION_TIMEOUT_MS: '8000',
      },
      BASE_PORT + 10,
      proxiedLogDir(),
    );
    proxied.start('gateway');
    await proxied.waitReady('gateway');
  });

  afterAll(async () => {
    await proxied?.stopAll();
    await proxy?.stop();
  });

  it('answers 503 dependency-unavailable with Retry-After, logs its errorId, and the retry succeeds after', async () => {
    const client = new GatewayClient(proxied.url('gateway'), acmeKey);
    const conversationId = await open(client);
    const send = () =>
      client.request('POST', `/v1/conversations/${conversationId}/messages`, {
        json: { text: 'Are you there?', clientMessageId: 'outage-1' },
      });

    proxy.cut();
    const response = await fetch(`${proxied.url('gateway')}/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acmeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Are you there?', clientMessageId: 'outage-1' }),
    });
    const problem = (await response.json()) as { code: string; errorId?: string };
    expect({ status: response.status, code: problem.code }).toEqual({
      status: 503,
      code: 'dependency-unavailable',
    });
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(problem.errorId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('the 503 in the log with its errorId', () =>
      gatewayLog(proxiedLogDir()).includes(String(problem.errorId)),
    );

    proxy.restore();
    const retried = await waitFor('the retry to be accepted', async () => {
      const attempt = await send();
      return attempt.status === 202 && attempt;
    });
    expect(retried.body).toMatchObject({ conversationId });
    expect((await send()).body).toEqual(retried.body);
  });
});

describe('a schema-driven fuzz of the whole API document', () => {
  // Started only now: its knowledge-retrieved events would otherwise race the event counts above.
  beforeAll(async () => {
    services.start('retrieval');
    await services.waitReady('retrieval');
  });

  it('finds no server error, no undeclared status and no response off its schema', async () => {
    const conversations = [await open(alice), await open(alice), randomUUID()];
    // Knowledge is managed with an agent's key; the fuzz itself runs with the frontend key (403s declared).
    const agent = new GatewayClient(
      services.url('gateway'),
      await createTenantWithKey(db.dataSource, 'edge-acme', 'agent'),
    );
    await agent.uploadDocument('fuzz-guide', {
      title: 'Fuzz guide',
      mediaType: 'text/markdown',
      content: Buffer.from('## Returns\n\nThirty days from delivery.\n'),
    });
    const result = await runSchemathesis({
      baseUrl: services.url('gateway'),
      apiKey: acmeKey,
      checks: [
        'not_a_server_error',
        'status_code_conformance',
        'response_schema_conformance',
        'content_type_conformance',
        'response_headers_conformance',
        'unsupported_method',
        'allow_header_conformance',
        'ignored_auth',
      ],
      maxExamples: 25,
      seed: 20_251_122,
      pathValues: { id: conversations, documentId: ['fuzz-guide', 'unknown-document'] },
      workDir: join(stack.logDir, 'schemathesis'),
    });
    if (result.exitCode !== 0) console.log(result.output);
    expect(result.exitCode).toBe(0);
  });
});
