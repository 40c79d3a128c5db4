/**
 * The knowledge base end to end, as a tenant and its customers use it: a document uploaded through the
 * gateway is indexed by retrieval into the real Elasticsearch and Milvus (embedded by the real
 * embeddings server), found by the search route, and cited in a conversation: the
 * `knowledge-retrieved` event reaches the WebSocket, and replaying the stream gives the same
 * citations. Five real service processes; a fresh database, topic prefix, index and collection.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VectorIndex } from '@libs/knowledge-search';
import { GatewayClient, GatewayError, type RawResponse } from '@libs/client';
import { citationsByMessage } from '@libs/knowledge';
import type { DocumentMediaType, KnowledgeDocumentView } from '@contracts';
import {
  E2eStack,
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(240_000);

/** Elasticsearch index and Milvus collection of this suite alone, dropped at the end. */
const knowledgeIndex = `e2e_kb_${randomBytes(4).toString('hex')}`;
const basePort = Number(process.env.E2E_BASE_PORT ?? 4610);
const MAX_FILE_BYTES = 64 * 1024;
const DOCS = join(__dirname, '..', 'fixtures', 'knowledge', 'docs');
const INDEXING_TIMEOUT_MS = 120_000;

let stack: E2eStack;
let db: TestDatabase;
let services: ServiceProcesses;
let acme: GatewayClient;
let globex: GatewayClient; // another tenant of the platform

const fixture = (file: string) => readFileSync(join(DOCS, file));

function upload(client: GatewayClient, documentId: string, title: string, file: string) {
  const mediaType: DocumentMediaType = file.endsWith('.html') ? 'text/html' : 'text/markdown';
  return client.uploadDocument(documentId, { title, mediaType, content: fixture(file) });
}

function indexed(client: GatewayClient, documentId: string): Promise<KnowledgeDocumentView> {
  return waitFor(
    `${documentId} indexed`,
    async () => {
      const document = await client.getDocument(documentId);
      if (document.status === 'failed') throw new Error(`indexing failed: ${document.failure}`);
      return document.status === 'indexed' && document;
    },
    { timeoutMs: INDEXING_TIMEOUT_MS, intervalMs: 200 },
  );
}

async function documentEventTypes(tenantId: string, documentId: string): Promise<string[]> {
  const rows: { type: string }[] = await db.dataSource.query(
    'SELECT type FROM events WHERE tenant_id = $1 AND stream_id = $2 ORDER BY sequence',
    [tenantId, `kb-document:${documentId}`],
  );
  return rows.map((row) => row.type);
}

function expectProblem(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.contentType).toContain('application/problem+json');
  expect(response.body).toMatchObject({ status, code });
}

beforeAll(async () => {
  stack = await E2eStack.create('kb', ['ELASTICSEARCH_URL', 'MILVUS_ADDRESS']);
  ({ db } = stack);
  // Knowledge is managed by agents (or admins); agents also hold conversations.
  const acmeKey = await createTenantWithKey(db.dataSource, 'acme', 'agent');
  // One slot-free intent, so a question is always answered by the model with its knowledge, whatever the
  // tiny local classifier makes of it (the dialogue spec covers intents and slots).
  await answerEveryMessage(db.dataSource, 'acme', [
    'How long do I have to return an item?',
    '退货期限是多久？',
  ]);
  const globexKey = await createTenantWithKey(db.dataSource, 'globex', 'agent');
  services = stack.services(basePort, {
    REPLY_MAX_TOKENS: '64',
    LLM_TEMPERATURE: '0',
    KNOWLEDGE_INDEX: knowledgeIndex,
    RETRIEVAL_URL: `http://127.0.0.1:${basePort + 3}`,
    KNOWLEDGE_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
    // Small batches, so a 4 KB document reports its progress on the way.
    INGEST_BATCH_SIZE: '4',
    // The 500 ms production timeout is for a dedicated machine; this one is shared by many suites.
    BREAKER_TIMEOUT_MS: '5000',
  });
  await services.startAll();
  acme = new GatewayClient(services.url('gateway'), acmeKey);
  globex = new GatewayClient(services.url('gateway'), globexKey);
});

afterAll(async () => {
  await stack?.stop();
  await fetch(`${process.env.ELASTICSEARCH_URL}/${knowledgeIndex}`, { method: 'DELETE' });
  const milvus = new VectorIndex(process.env.MILVUS_ADDRESS ?? '', knowledgeIndex, 0);
  await milvus.drop();
  await milvus.close();
});

const RETURNS_QUESTION = 'I threw away the box already, can I still send the item back within a month?';

describe('a knowledge document, uploaded, indexed and cited', () => {
  it('uploads a document, shows indexing progress until indexed, and a second identical upload changes nothing', async () => {
    const first = await upload(acme, 'returns-policy', 'Returns and Exchanges Policy', 'returns-policy.md');
    expect(first.changed).toBe(true);
    expect(first.document).toMatchObject({
      documentId: 'returns-policy',
      revision: 1,
      format: 'markdown',
      sizeBytes: fixture('returns-policy.md').length,
    });
    await upload(acme, 'shipping-terms', 'Shipping Terms', 'shipping-terms.md');

    const done = await indexed(acme, 'returns-policy');
    expect(done.chunksTotal).toBeGreaterThan(4);
    expect(done.chunksIndexed).toBe(done.chunksTotal);
    const types = await documentEventTypes('acme', 'returns-policy');
    expect(types[0]).toBe('knowledge.document-ingested.v1');
    expect(types).toContain('knowledge.document-indexing-progressed.v1');
    expect(types.at(-1)).toBe('knowledge.document-indexed.v1');

    const again = await upload(acme, 'returns-policy', 'Returns and Exchanges Policy', 'returns-policy.md');
    expect(again).toEqual({ changed: false, document: done });
    expect(await documentEventTypes('acme', 'returns-policy')).toEqual(types);

    await indexed(acme, 'shipping-terms');
    const page = await acme.listDocuments();
    expect(page.documents.map((document) => document.documentId)).toEqual([
      'returns-policy',
      'shipping-terms',
    ]);
    expect(page.nextAfter).toBeNull();
  });

  it('the search route finds it first, with a citation', async () => {
    const found = await acme.searchKnowledge({ query: RETURNS_QUESTION });
    expect(found.degraded).toEqual({ keyword: false, vector: false });
    expect(found.results.length).toBeGreaterThan(0);
    expect(found.results[0]).toMatchObject({
      documentId: 'returns-policy',
      title: 'Returns and Exchanges Policy',
      chunkIndex: expect.any(Number),
      score: expect.any(Number),
    });
    expect(found.results[0]?.text.length).toBeGreaterThan(0);
  });

  it('a customer question answered by it: the citation reaches the WebSocket, and a replay gives the same citations', async () => {
    const { conversationId } = await acme.startConversation({ channel: 'web', locale: 'en-US' });
    const socket = await acme.connect();
    await socket.subscribe(conversationId);
    const { messageId } = await acme.sendMessage(conversationId, RETURNS_QUESTION);

    const retrieved = await socket.waitForEvent(
      'conversation.knowledge-retrieved.v1',
      (event) => event.data.messageId === messageId,
      { conversationId, timeoutMs: 60_000 },
    );
    expect(retrieved.data.degraded).toEqual({ keyword: false, vector: false });
    expect(retrieved.data.results.map((citation) => citation.documentId)).toContain('returns-policy');
    expect(retrieved.data.results[0]?.documentId).toBe('returns-policy');

    // Replay: the stored stream, fetched page by page and folded, cites exactly what the socket showed.
    const replayed = citationsByMessage(await acme.allEvents(conversationId, { pageSize: 3 }));
    expect(replayed.get(messageId)).toEqual(retrieved.data.results);
    // The turn goes on to its reply as before.
    await socket.waitForTurnEnd(messageId, { timeoutMs: 180_000 });
    socket.close();
  });

  it("another tenant's search never returns the first tenant's document, even for the same question", async () => {
    await upload(globex, 'warranty', 'Globex Warranty', 'warranty-terms.md');
    await indexed(globex, 'warranty');

    const theirs = await globex.searchKnowledge({ query: RETURNS_QUESTION, topK: 10 });
    expect(theirs.results.length).toBeGreaterThan(0);
    expect(new Set(theirs.results.map((citation) => citation.documentId))).toEqual(new Set(['warranty']));
    for (const mode of ['keyword', 'vector'] as const) {
      const one = await globex.searchKnowledge({ query: 'return window packaging', topK: 10, mode });
      expect(one.results.every((citation) => citation.documentId === 'warranty')).toBe(true);
    }
    await expect(globex.getDocument('returns-policy')).rejects.toMatchObject({
      status: 404,
      code: 'not-found',
    });
    expect((await globex.listDocuments()).documents.map((document) => document.documentId)).toEqual([
      'warranty',
    ]);
  });

  it('a delete removes it from search (both retrievers), and deleting again is harmless', async () => {
    await acme.deleteDocument('returns-policy');
    await expect(acme.getDocument('returns-policy')).rejects.toBeInstanceOf(GatewayError);
    await waitFor(
      'returns-policy gone from keyword and vector search',
      async () => {
        const modes = ['keyword', 'vector'] as const;
        const found = await Promise.all(
          modes.map((mode) => acme.searchKnowledge({ query: RETURNS_QUESTION, topK: 10, mode })),
        );
        return found.every((result) =>
          result.results.every((citation) => citation.documentId !== 'returns-policy'),
        );
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const remaining = await acme.searchKnowledge({ query: RETURNS_QUESTION, topK: 10 });
    expect(remaining.results.length).toBeGreaterThan(0); // the shipping terms are still there
    await acme.deleteDocument('returns-policy');
    expect((await documentEventTypes('acme', 'returns-policy')).at(-1)).toBe('knowledge.document-deleted.v1');
    expect((await acme.listDocuments()).documents.map((document) => document.documentId)).toEqual([
      'shipping-terms',
    ]);
  });
});

describe('bad uploads are refused with problem+json and record nothing', () => {
  const put = (path: string, body: string | Uint8Array, contentType: string) =>
    acme.request('PUT', path, { raw: body, headers: { 'content-type': contentType } });

  it.each([
    [
      'an unsupported media type',
      '/v1/knowledge/documents/bad?title=x',
      'hello',
      'image/png',
      415,
      'unsupported-media-type',
    ],
    [
      'a charset other than UTF-8',
      '/v1/knowledge/documents/bad?title=x',
      'hello',
      'text/plain; charset=gbk',
      415,
      'unsupported-media-type',
    ],
    ['no title', '/v1/knowledge/documents/bad', 'hello', 'text/plain', 400, 'validation-failed'],
    ['an empty file', '/v1/knowledge/documents/bad?title=x', '', 'text/plain', 400, 'validation-failed'],
    [
      'a malformed document id',
      '/v1/knowledge/documents/bad%20id?title=x',
      'hello',
      'text/plain',
      404,
      'not-found',
    ],
  ])('%s', async (_case, path, body, contentType, status, code) => {
    expectProblem(await put(path, body, contentType), status, code);
    expect(await documentEventTypes('acme', 'bad')).toEqual([]);
  });

  it('text that is not UTF-8', async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1
    expectProblem(
      await put('/v1/knowledge/documents/bad?title=x', latin1, 'text/markdown'),
      400,
      'invalid-encoding',
    );
    expect(await documentEventTypes('acme', 'bad')).toEqual([]);
  });

  it('a file over the limit', async () => {
    const large = Buffer.alloc(MAX_FILE_BYTES + 1, 'a');
    expectProblem(
      await put('/v1/knowledge/documents/bad?title=x', large, 'text/plain'),
      413,
      'payload-too-large',
    );
    expect(await documentEventTypes('acme', 'bad')).toEqual([]);
  });

  it('an unknown document answers 404 to GET and DELETE; a search without a query is a 400', async () => {
    expectProblem(await acme.request('GET', '/v1/knowledge/documents/nothing'), 404, 'not-found');
    expectProblem(await acme.request('DELETE', '/v1/knowledge/documents/nothing'), 404, 'not-found');
    expectProblem(await acme.request('POST', '/v1/knowledge/search', { json: {} }), 400, 'validation-failed');
    expectProblem(
      await new GatewayClient(services.url('gateway'), null).request('POST', '/v1/knowledge/search', {
        json: { query: 'x' },
      }),
      401,
      'unauthorized',
    );
  });
});
