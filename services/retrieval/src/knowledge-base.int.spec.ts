import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentFormat, EventOfType } from '@contracts';
import { PostgresEventStore, StreamRunner, migrateOwnTables } from '@libs/event-store';
import {
  DocumentIds,
  KnowledgeFiles1764806400000,
  KnowledgeFilesRepository,
  decideDelete,
  decideUpload,
  documentStreamId,
  knowledgeDocumentStream,
  type KnowledgeDocumentState,
} from '@libs/knowledge';
import { Embedder } from '@libs/embeddings';
import { TcpProxy, createTenantWithKey, createTestDatabase, type TestDatabase } from '@test/support';
import { BackendBreakers, KeywordIndex, QueryEmbeddingCache, VectorIndex } from '@libs/knowledge-search';
import { DeleteDocumentCommand, DeleteDocumentHandler } from './delete-document';
import { IndexDocumentCommand, IndexDocumentHandler, IndexingCheckpoints } from './index-document';
import { RETRIEVAL_TABLES } from './migrations';
import {
  FixedSearchWeights,
  KeepFusedOrder,
  SearchKnowledgeHandler,
  SearchKnowledgeQuery,
} from './search-knowledge';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: source ~/.cache/convo-engine/stack.env`);
  return value;
};
const DOCS = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'knowledge', 'docs');
const doc = (file: string) => readFileSync(join(DOCS, file));

type Upload = EventOfType<'knowledge.document-ingested.v1' | 'knowledge.document-replaced.v1'>;

/**
 * The knowledge base on the real Elasticsearch, Milvus and embeddings server, each suite in its own
 * index and collection, with the search backends behind TCP proxies so outages can be made without
 * touching the shared servers.
 */
jest.setTimeout(120_000);

describe('knowledge base (real Elasticsearch, Milvus, embeddings)', () => {
  const index = `test_kb_${randomBytes(4).toString('hex')}`;
  const esProxy = new TcpProxy('127.0.0.1', Number(new URL(env('ELASTICSEARCH_URL')).port));
  const milvusProxy = new TcpProxy(
    env('MILVUS_ADDRESS').split(':')[0]!,
    Number(env('MILVUS_ADDRESS').split(':')[1]),
  );
  let db: TestDatabase;
  let runner: StreamRunner<'knowledge-document', KnowledgeDocumentState>;
  let files: KnowledgeFilesRepository;
  let checkpoints: IndexingCheckpoints;
  let keywords: KeywordIndex;
  let vectors: VectorIndex;
  let embedder: Embedder;
  let breakers: BackendBreakers;
  let search: SearchKnowledgeHandler;

  const indexer = (batchSize: number, embed: Embedder = embedder) =>
    new IndexDocumentHandler(store(), files, checkpoints, keywords, vectors, embed, batchSize, true);
  const store = () => new PostgresEventStore(db.dataSource);

  async function upload(
    tenantId: string,
    documentId: string,
    title: string,
    format: DocumentFormat,
    content: Buffer,
  ): Promise<Upload | null> {
    const contentHash = await files.put(tenantId, 'application/octet-stream', content);
    const result = await runner.execute(
      { tenantId, streamId: documentStreamId(documentId) },
      { causationId: null, correlationId: randomUuid() },
      (state) =>
        decideUpload({ tenantId, documentId, title, format, contentHash, sizeBytes: content.length }, state),
    );
    return (result.result?.status === 'appended' ? (result.result.events[0] as Upload) : null) ?? null;
  }

  async function events(tenantId: string, documentId: string) {
    return store().read('knowledge-document', { tenantId, streamId: documentStreamId(documentId) });
  }

  beforeAll(async () => {
    db = await createTestDatabase('retrieval_kb');
    await migrateOwnTables(db.url, { owner: 'gateway', migrations: [KnowledgeFiles1764806400000] });
    await migrateOwnTables(db.url, RETRIEVAL_TABLES);
    await createTenantWithKey(db.dataSource, 'acme');
    await createTenantWithKey(db.dataSource, 'globex');
    await Promise.all([esProxy.start(), milvusProxy.start()]);
    runner = new StreamRunner(store(), knowledgeDocumentStream);
    files = new KnowledgeFilesRepository(db.dataSource);
    checkpoints = new IndexingCheckpoints(db.dataSource);
    keywords = new KeywordIndex(esProxy.via(env('ELASTICSEARCH_URL')), index);
    vectors = new VectorIndex(`127.0.0.1:${milvusProxy.port}`, index, Number(env('EMBEDDINGS_DIMENSIONS')));
    embedder = new Embedder({
      baseUrl: env('EMBEDDINGS_BASE_URL'),
      apiKey: 'none',
      model: env('EMBEDDINGS_MODEL'),
      dimensions: Number(env('EMBEDDINGS_DIMENSIONS')),
    });
    // A generous timeout: the shared 2-core machine is busy; the breakers' 500 ms is for production.
    breakers = new BackendBreakers({ timeoutMs: 5_000, failuresToOpen: 5, openForMs: 30_000 });
    search = new SearchKnowledgeHandler(
      keywords,
      vectors,
      embedder,
      breakers,
      new FixedSearchWeights(),
      new KeepFusedOrder(),
      // No cache: the outage tests below must reach the embeddings server every time.
      new QueryEmbeddingCache(0),
    );
  }, 60_000);

  afterAll(async () => {
    esProxy.restore();
    milvusProxy.restore();
    await Promise.allSettled([keywords.drop(), vectors.drop()]);
    await Promise.allSettled([keywords.close(), vectors.close()]);
    await Promise.allSettled([esProxy.stop(), milvusProxy.stop()]);
    await db.drop();
  });

  it('ingests a document into both indexes and finds it by meaning and by words, with citations', async () => {
    const uploaded = await upload('acme', 'returns', 'Returns policy', 'markdown', doc('returns-policy.md'));
    await indexer(16).execute(new IndexDocumentCommand(uploaded!));

    const types = (await events('acme', 'returns')).map((event) => event.type);
    expect(types.at(-1)).toBe('knowledge.document-indexed.v1');
    const chunks = (await events('acme', 'returns')).at(-1) as EventOfType<'knowledge.document-indexed.v1'>;
    expect(await keywords.count('acme', 'returns')).toBe(chunks.data.chunks);
    expect(await vectors.count('acme', 'returns')).toBe(chunks.data.chunks);

    const found = await search.execute(
      new SearchKnowledgeQuery('acme', 'how long do I have to send an item back?'),
    );
    expect(found.degraded).toEqual({ keyword: false, vector: false });
    expect(found.results.length).toBeGreaterThan(0);
    expect(found.results.length).toBeLessThanOrEqual(5);
    expect(found.results[0]).toMatchObject({ documentId: 'returns', title: 'Returns policy' });
    expect(found.results[0]!.text.length).toBeGreaterThan(0);

    // Each retriever's hits carry their own chunk ids, or fusion would merge them into one.
    const vectorHits = await vectors.search('acme', await embedder.embedQuery('return window'), 5);
    expect(vectorHits.map((hit) => hit.id)).toEqual(
      vectorHits.map((hit) => DocumentIds.chunk('acme', 'returns', 1, hit.chunkIndex)),
    );
    expect(new Set(vectorHits.map((hit) => hit.id)).size).toBe(5);
    const vectorOnly = await search.execute(new SearchKnowledgeQuery('acme', 'return window', 5, 'vector'));
    expect(vectorOnly.results).toHaveLength(5);
  });

  it('re-ingesting unchanged bytes is a no-op; changed bytes replace every chunk of the old revision', async () => {
    expect(
      await upload('acme', 'returns', 'Returns policy', 'markdown', doc('returns-policy.md')),
    ).toBeNull();

    const changed = Buffer.from(
      '# Returns\n\n## Window\n\nZebra-striped parcels may be returned within 45 days.\n',
    );
    const replaced = await upload('acme', 'returns', 'Returns policy', 'markdown', changed);
    expect(replaced).toMatchObject({ type: 'knowledge.document-replaced.v1', data: { revision: 2 } });
    await indexer(16).execute(new IndexDocumentCommand(replaced!));

    expect(await keywords.count('acme', 'returns', 1)).toBe(0);
    expect(await vectors.count('acme', 'returns', 1)).toBe(0);
    // The title line and the one section: two chunks, all of revision 2.
    expect(await keywords.count('acme', 'returns', 2)).toBe(2);
    expect(await keywords.count('acme', 'returns')).toBe(2);
    expect(await vectors.count('acme', 'returns')).toBe(2);
    const found = await search.execute(new SearchKnowledgeQuery('acme', 'zebra striped parcels'));
    expect(found.results[0]?.text).toContain('45 days');
  });

  it('never returns another tenant’s chunk, from either index', async () => {
    const secret = Buffer.from('Globex internal: the vault code for returns is 7741. 保险库密码是七七四一。');
    await indexer(16).execute(
      new IndexDocumentCommand((await upload('globex', 'vault', 'Vault', 'text', secret))!),
    );
    const query = 'vault code for returns 保险库密码';

    expect((await search.execute(new SearchKnowledgeQuery('globex', query))).results[0]?.documentId).toBe(
      'vault',
    );
    expect(await keywords.search('acme', query, 50)).not.toContainEqual(
      expect.objectContaining({ documentId: 'vault' }),
    );
    const vector = await embedder.embedQuery(query);
    const acmeHits = await vectors.search('acme', vector, 50);
    expect(acmeHits.length).toBeGreaterThan(0);
    expect(acmeHits.map((hit) => hit.documentId)).not.toContain('vault');
    const hybrid = await search.execute(new SearchKnowledgeQuery('acme', query, 10));
    expect(hybrid.results.map((hit) => hit.documentId)).not.toContain('vault');
  });

  it('a delete removes the document from both indexes', async () => {
    const sheet = Buffer.from(
      'question,answer\nDo you sell quokka plushies?,Yes: the quokka plushie costs ¥59.\n',
    );
    await indexer(16).execute(
      new IndexDocumentCommand((await upload('acme', 'plush', 'Plush FAQ', 'csv', sheet))!),
    );
    expect(await keywords.count('acme', 'plush')).toBe(1);

    const deleted = await runner.execute(
      { tenantId: 'acme', streamId: documentStreamId('plush') },
      { causationId: null, correlationId: randomUuid() },
      (state) => decideDelete({ tenantId: 'acme', documentId: 'plush' }, state),
    );
    const event = (deleted.result?.status === 'appended' ? deleted.result.events[0] : undefined) as
      EventOfType<'knowledge.document-deleted.v1'> | undefined;
    await new DeleteDocumentHandler(keywords, vectors).execute(new DeleteDocumentCommand(event!));

    expect(await keywords.count('acme', 'plush')).toBe(0);
    expect(await vectors.count('acme', 'plush')).toBe(0);
    const found = await search.execute(new SearchKnowledgeQuery('acme', 'quokka plushie price'));
    expect(found.results.map((hit) => hit.documentId)).not.toContain('plush');
  });

  it('survives a crash mid-ingestion: the restarted indexer resumes, with no duplicate and no orphan', async () => {
    let calls = 0;
    const crashing = Object.create(embedder) as Embedder;
    crashing.embedPassages = (texts: string[]) => {
      calls += 1;
      if (calls === 3) return Promise.reject(new Error('process killed'));
      return embedder.embedPassages(texts);
    };
    const uploaded = await upload('acme', 'shipping', 'Shipping', 'markdown', doc('shipping-terms.md'));

    await expect(indexer(2, crashing).execute(new IndexDocumentCommand(uploaded!))).rejects.toThrow('killed');
    const halfway = await checkpoints.indexed({ tenantId: 'acme', documentId: 'shipping', revision: 1 });
    expect(halfway).toBe(4);
    expect(await keywords.count('acme', 'shipping')).toBe(4);

    await indexer(2).execute(new IndexDocumentCommand(uploaded!));
    // Redelivered once more after it finished: nothing changes.
    await indexer(2).execute(new IndexDocumentCommand(uploaded!));

    const stream = await events('acme', 'shipping');
    const indexed = stream.filter((event) => event.type === 'knowledge.document-indexed.v1');
    expect(indexed).toHaveLength(1);
    const total = (indexed[0] as EventOfType<'knowledge.document-indexed.v1'>).data.chunks;
    expect(total).toBeGreaterThan(4);
    expect(await keywords.count('acme', 'shipping')).toBe(total);
    expect(await vectors.count('acme', 'shipping')).toBe(total);
    const progress = stream
      .filter((event) => event.type === 'knowledge.document-indexing-progressed.v1')
      .map((event) => event.data.chunksIndexed);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBe(progress.length);
  });

  it('a repeated question is searched with its cached query embedding, even with the embeddings server cut off', async () => {
    const embeddingsProxy = new TcpProxy('127.0.0.1', Number(new URL(env('EMBEDDINGS_BASE_URL')).port));
    await embeddingsProxy.start();
    const viaProxy = new Embedder({
      baseUrl: embeddingsProxy.via(env('EMBEDDINGS_BASE_URL')),
      apiKey: 'none',
      model: env('EMBEDDINGS_MODEL'),
      dimensions: Number(env('EMBEDDINGS_DIMENSIONS')),
    });
    const handler = new SearchKnowledgeHandler(
      keywords,
      vectors,
      viaProxy,
      new BackendBreakers({ timeoutMs: 5_000, failuresToOpen: 5, openForMs: 30_000 }),
      new FixedSearchWeights(),
      new KeepFusedOrder(),
      new QueryEmbeddingCache(10),
    );
    try {
      const first = await handler.execute(new SearchKnowledgeQuery('acme', 'how long is the return window?'));
      expect(first.degraded.vector).toBe(false);
      expect(first.results.length).toBeGreaterThan(0);
      embeddingsProxy.cut();
      const again = await handler.execute(
        new SearchKnowledgeQuery('acme', '  how long is the  return window？'),
      );
      expect(again.degraded.vector).toBe(false);
      expect(again.results.map((hit) => [hit.documentId, hit.chunkIndex])).toEqual(
        first.results.map((hit) => [hit.documentId, hit.chunkIndex]),
      );
      const other = await handler.execute(new SearchKnowledgeQuery('acme', 'can I pay by invoice?'));
      expect(other.degraded).toEqual({ keyword: false, vector: true });
    } finally {
      embeddingsProxy.restore();
      await embeddingsProxy.stop();
    }
  });

  it('one backend down: the other answers, marked degraded; both down: no results, degraded both', async () => {
    const query = 'how long do I have to send an item back?';
    esProxy.cut();
    try {
      const vectorOnly = await search.execute(new SearchKnowledgeQuery('acme', query));
      expect(vectorOnly.degraded).toEqual({ keyword: true, vector: false });
      expect(vectorOnly.results.length).toBeGreaterThan(0);

      milvusProxy.cut();
      const nothing = await search.execute(new SearchKnowledgeQuery('acme', query));
      expect(nothing).toMatchObject({ results: [], degraded: { keyword: true, vector: true } });
    } finally {
      esProxy.restore();
      milvusProxy.restore();
    }
    const keywordBack = await search.execute(new SearchKnowledgeQuery('acme', query));
    expect(keywordBack.degraded.keyword).toBe(false);
  });

  it('opens the breaker after 5 failures: calls then fail at once without reaching the backend', async () => {
    const fast = new BackendBreakers({ timeoutMs: 5_000, failuresToOpen: 5, openForMs: 60_000 });
    const handler = new SearchKnowledgeHandler(
      keywords,
      vectors,
      embedder,
      fast,
      new FixedSearchWeights(),
      new KeepFusedOrder(),
      new QueryEmbeddingCache(0),
    );
    milvusProxy.cut();
    try {
      for (let i = 0; i < 5; i++) await handler.execute(new SearchKnowledgeQuery('acme', 'shipping fee'));
      expect(fast.states()).toMatchObject({ milvus: 'open', elasticsearch: 'closed' });
      milvusProxy.restore();
      // Open for 60 s: the restored backend is not tried yet, the turn stays degraded on that side only.
      const stillOpen = await handler.execute(new SearchKnowledgeQuery('acme', 'shipping fee'));
      expect(stillOpen.degraded).toEqual({ keyword: false, vector: true });
      expect(stillOpen.results.length).toBeGreaterThan(0);
    } finally {
      milvusProxy.restore();
    }
  });
});

function randomUuid(): string {
  return crypto.randomUUID();
}
