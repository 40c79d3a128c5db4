/**
 * Knowledge base benchmark: hybrid query latency at 10k and 100k chunks, and ingestion throughput.
 *
 *   npm run build && node dist/bench/knowledge/knowledge-bench.js [--base-port 4650] [--sizes 10000,100000]
 *     [--queries 138] [--ingest-chunks 600 (0: skip)]
 *
 * Query latency: synthetic chunks (English words and Chinese characters from a fixed vocabulary,
 * ~300 characters each) are bulk-loaded straight into Elasticsearch and Milvus through retrieval's
 * own adapters (@libs/knowledge-search, so the same mapping and collection), under a throw-away
 * tenant, with random unit vectors of the embedding dimension instead of embeddings: the embeddings
 * server would take hours for 100k chunks and is not what this measures. Milvus gets a fresh
 * collection per size, sealed and indexed (HNSW) once after the load. Queries are the evaluation's
 * customer questions, sent to retrieval's internal search route by a client on the same machine,
 * one at a time, to a retrieval process started afresh for each size: first each question as new
 * (its query embedding computed by the real embeddings server), then the same questions again (the
 * embedding from retrieval's cache), then BM25 only and vector only; and a bare query embedding, for
 * the breakdown. BM25 and vector top 20 run in parallel and are fused.
 *
 * Ingestion: one synthetic Markdown document uploaded through the gateway, timed from the upload to
 * `indexed` (parse, chunk, embed in batches of INGEST_BATCH_SIZE, write both indexes, checkpoint,
 * progress events), beside the embeddings server's own passage throughput on the same chunks.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KnowledgeSearchResultSchema } from '@contracts';
import { chunkDocument, DocumentIds } from '@libs/knowledge';
import { parseDocument } from '@libs/document-parsing';
import { Embedder } from '@libs/embeddings';
import type { IndexedChunk } from '@libs/knowledge-search';
import { env, percentile, startKnowledgeStack, waitIndexed, type KnowledgeStack } from './knowledge-stack';

const { values } = parseArgs({
  options: {
    'base-port': { type: 'string', default: '4650' },
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '138' },
    'ingest-chunks': { type: 'string', default: '600' },
    fixtures: { type: 'string', default: 'test/fixtures/knowledge' },
    out: { type: 'string', default: 'bench/out/knowledge-bench.json' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const QUERIES = Number(values.queries);
const INGEST_CHUNKS = Number(values['ingest-chunks']);
const DIMENSIONS = Number(env('EMBEDDINGS_DIMENSIONS'));
const SCALE_TENANT = 'bench-scale';
const LOAD_BATCH = 1_000;
const WARM_UP = 20;

/** A deterministic pseudo-random sequence (xorshift32) in [0, 1), so runs load the same corpus. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

const ENGLISH = (
  'order delivery refund return exchange warranty repair invoice coupon member points shipping courier ' +
  'parcel address payment card wallet receipt package damaged missing item kettle vacuum purifier filter ' +
  'battery mattress pillow sofa assembly appointment pickup inspection replacement deadline days business ' +
  'customer service hotline showroom discount price protection gift voucher account password phone email'
).split(' ');
const CHINESE =
  '订单配送退款退货换货保修维修发票优惠券会员积分运费快递包裹地址支付卡钱包收据损坏缺少水壶扫地机净化器滤网电池床垫枕头沙发安装预约上门检测更换期限工作日客服热线门店折扣价格保护礼品账户密码手机邮箱'.split(
    '',
  );

function syntheticText(next: () => number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < 300) {
    const part =
      next() < 0.5
        ? ENGLISH[Math.floor(next() * ENGLISH.length)]!
        : Array.from({ length: 2 }, () => CHINESE[Math.floor(next() * CHINESE.length)]!).join('');
    parts.push(part);
    length += part.length + 1;
  }
  return `${parts.join(' ')}.`;
}

function unitVector(next: () => number): number[] {
  // Box-Muller normals give directions uniform on the sphere once normalised.
  const vector = Array.from({ length: DIMENSIONS }, () => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  });
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Batch `start` of the synthetic corpus: the same chunks and vectors however the corpus is loaded. */
function syntheticBatch(start: number, end: number): { chunks: IndexedChunk[]; vectors: number[][] } {
  const next = random(0x5eed + start);
  const chunks: IndexedChunk[] = [];
  for (let index = start; index < end; index++) {
    const documentId = `synthetic-${Math.floor(index / 100)}`;
    chunks.push({
      id: DocumentIds.chunk(SCALE_TENANT, documentId, 1, index % 100),
      tenantId: SCALE_TENANT,
      documentId,
      revision: 1,
      chunkIndex: index % 100,
      title: `Synthetic document ${Math.floor(index / 100)}`,
      heading: null,
      text: syntheticText(next),
    });
  }
  return { chunks, vectors: chunks.map(() => unitVector(next)) };
}

interface Loaded {
  loadSeconds: number;
  flushSeconds: number;
  indexSeconds: number;
}

/**
 * Brings Elasticsearch to `size` chunks (adding [keywordsLoaded, size)) and gives Milvus a fresh
 * collection of chunks [0, size): loaded without an index, sealed (flush), then HNSW built once over
 * the sealed segments, as Milvus advises for bulk loads. Loading into an indexed collection instead
 * would leave Milvus Lite building segment indexes in the background while searches are measured.
 */
async function loadSynthetic(stack: KnowledgeStack, keywordsLoaded: number, size: number): Promise<Loaded> {
  await stack.vectors.drop().catch(() => undefined);
  await stack.vectors.createWithoutIndex();
  const started = performance.now();
  for (let start = 0; start < size; start += LOAD_BATCH) {
    const { chunks, vectors } = syntheticBatch(start, Math.min(size, start + LOAD_BATCH));
    await Promise.all([
      start >= keywordsLoaded ? stack.keywords.upsert(chunks) : Promise.resolve(),
      stack.vectors.upsert(chunks, vectors),
    ]);
  }
  const loaded = performance.now();
  await stack.vectors.flush();
  const flushed = performance.now();
  await stack.vectors.buildIndex();
  return {
    loadSeconds: (loaded - started) / 1000,
    flushSeconds: (flushed - loaded) / 1000,
    indexSeconds: (performance.now() - flushed) / 1000,
  };
}

interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  degraded: number;
  /** Searches that found nothing. */
  empty: number;
  serverP50: number;
  serverP95: number;
}

function summarise(client: number[], server: number[], degraded: number, empty: number): Latency {
  client.sort((a, b) => a - b);
  server.sort((a, b) => a - b);
  return {
    n: client.length,
    p50: percentile(client, 50),
    p95: percentile(client, 95),
    p99: percentile(client, 99),
    mean: client.reduce((sum, ms) => sum + ms, 0) / client.length,
    degraded,
    empty,
    serverP50: percentile(server, 50),
    serverP95: percentile(server, 95),
  };
}

/** Each query once, one at a time, to retrieval's internal search route. */
async function measureSearch(
  stack: KnowledgeStack,
  queries: readonly string[],
  mode: 'hybrid' | 'keyword' | 'vector',
): Promise<Latency> {
  const client: number[] = [];
  const server: number[] = [];
  let degraded = 0;
  let empty = 0;
  for (const query of queries) {
    const started = performance.now();
    const response = await fetch(`${stack.retrievalUrl}/internal/knowledge/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: SCALE_TENANT, query, topK: 5, mode }),
    });
    const result = KnowledgeSearchResultSchema.parse(await response.json());
    client.push(performance.now() - started);
    server.push(result.timings.totalMs);
    if (result.degraded.keyword || result.degraded.vector) degraded++;
    // BM25 finds nothing for a question with no word in the synthetic vocabulary: counted, not an error.
    if (result.results.length === 0) empty++;
  }
  return summarise(client, server, degraded, empty);
}

async function warmVectors(stack: KnowledgeStack, searches: number): Promise<void> {
  const next = random(0x3a11);
  for (let i = 0; i < searches; i++) await stack.vectors.search(SCALE_TENANT, unitVector(next), 20);
}

async function measureEmbedding(embedder: Embedder, queries: readonly string[]): Promise<Latency> {
  const times: number[] = [];
  for (const query of queries) {
    const started = performance.now();
    await embedder.embedQuery(query);
    times.push(performance.now() - started);
  }
  return summarise(times, [...times], 0, 0);
}

/** A Markdown document of about `chunks` chunks: sections of synthetic sentences. */
function syntheticDocument(chunks: number): Buffer {
  const next = random(0xd0c);
  const sections: string[] = ['# Synthetic manual', ''];
  for (let section = 1; section <= Math.ceil(chunks / 4); section++) {
    sections.push(`## Section ${section}`, '');
    for (let paragraph = 0; paragraph < 4; paragraph++) sections.push(syntheticText(next), '');
  }
  return Buffer.from(sections.join('\n'));
}

const format = (latency: Latency) =>
  `${latency.p50.toFixed(1)} / ${latency.p95.toFixed(1)} / ${latency.p99.toFixed(1)}`;

async function main(): Promise<void> {
  const queries = readFileSync(join(values.fixtures, 'questions.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => (JSON.parse(line) as { question: string }).question);
  const embedder = new Embedder({
    baseUrl: env('EMBEDDINGS_BASE_URL'),
    apiKey: process.env.EMBEDDINGS_API_KEY ?? 'none',
    model: env('EMBEDDINGS_MODEL'),
    dimensions: DIMENSIONS,
  });
  console.log(
    `machine: ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const stack = await startKnowledgeStack('scale', Number(values['base-port']), {
    // Measure how long searches take, not where a breaker would cut them: no timeout in the way.
    BREAKER_TIMEOUT_MS: '10000',
  });
  const report: Record<string, unknown> = { queries: QUERIES, dimensions: DIMENSIONS, scale: {} };
  try {
    await stack.keywords.ensureIndex();
    // Warm-up questions prime connections and code paths; the measured ones are new to each process.
    const warmUp = queries.slice(0, WARM_UP);
    const measured = queries.slice(WARM_UP, WARM_UP + QUERIES);
    console.log(
      `\n${measured.length} measured questions per mode, one at a time, after ${warmUp.length} warm-up questions`,
    );
    console.log(
      '\n| chunks | Milvus load / flush / index build s | hybrid, new question p50 / p95 / p99 | hybrid, repeated question p50 / p95 / p99 | BM25 only p50 / p95 / p99 | vector only, repeated question p50 / p95 / p99 | query embedding alone p50 / p95 / p99 | degraded |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    let keywordsLoaded = 0;
    for (const size of SIZES) {
      // A fresh retrieval process per size: no query embedding cached from the size before.
      if (keywordsLoaded > 0) await stack.restartRetrieval();
      const loaded = await loadSynthetic(stack, keywordsLoaded, size);
      keywordsLoaded = size;
      await measureSearch(stack, warmUp, 'hybrid');
      // Warm both backends on the measured questions without caching their embeddings: BM25 on their
      // text, Milvus on random vectors. What is left in "new question" is the query embedding.
      await measureSearch(stack, measured, 'keyword');
      await warmVectors(stack, measured.length);
      // First time each question is asked: the query embedding is computed (cache miss).
      const hybridNew = await measureSearch(stack, measured, 'hybrid');
      // The same questions again: their embeddings come from retrieval's cache.
      const hybridRepeated = await measureSearch(stack, measured, 'hybrid');
      const keyword = await measureSearch(stack, measured, 'keyword');
      const vector = await measureSearch(stack, measured, 'vector');
      const embedding = await measureEmbedding(embedder, measured);
      (report.scale as Record<string, unknown>)[String(size)] = {
        ...loaded,
        hybridNew,
        hybridRepeated,
        keyword,
        vector,
        embedding,
        loadAverage: loadavg(),
      };
      const degraded = [hybridNew, hybridRepeated, keyword, vector].reduce((sum, l) => sum + l.degraded, 0);
      console.log(
        `| ${size} | ${loaded.loadSeconds.toFixed(0)} / ${loaded.flushSeconds.toFixed(0)} / ${loaded.indexSeconds.toFixed(0)} | ` +
          `${format(hybridNew)} | ${format(hybridRepeated)} | ${format(keyword)} | ${format(vector)} | ${format(embedding)} | ${degraded} |`,
      );
      console.log(
        `  server-side p50 / p95: hybrid new ${hybridNew.serverP50} / ${hybridNew.serverP95}, repeated ${hybridRepeated.serverP50} / ${hybridRepeated.serverP95}, ` +
          `vector ${vector.serverP50} / ${vector.serverP95}; BM25 empty ${keyword.empty}; load average ${loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')}`,
      );
    }
    mkdirSync(join(values.out, '..'), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2));
    if (INGEST_CHUNKS === 0) return;

    // Ingestion through the whole pipeline, and the embeddings server alone on the same chunks.
    const document = syntheticDocument(INGEST_CHUNKS);
    const chunks = chunkDocument(await parseDocument('markdown', document));
    const started = performance.now();
    await stack.client.uploadDocument('ingest-throughput', {
      title: 'Synthetic manual',
      mediaType: 'text/markdown',
      content: document,
    });
    await waitIndexed(stack.client, ['ingest-throughput']);
    const ingestSeconds = (performance.now() - started) / 1000;
    const embedStarted = performance.now();
    const batch = Number(process.env.INGEST_BATCH_SIZE ?? 16);
    for (let from = 0; from < chunks.length; from += batch) {
      await embedder.embedPassages(
        chunks
          .slice(from, from + batch)
          .map((chunk) => `Synthetic manual\n${chunk.heading ?? ''}\n${chunk.text}`),
      );
    }
    const embedSeconds = (performance.now() - embedStarted) / 1000;
    report.ingestion = {
      chunks: chunks.length,
      seconds: ingestSeconds,
      chunksPerSecond: chunks.length / ingestSeconds,
      embeddingsOnlySeconds: embedSeconds,
      embeddingsOnlyChunksPerSecond: chunks.length / embedSeconds,
    };
    console.log(
      `\ningestion: ${chunks.length} chunks (${document.length} bytes) in ${ingestSeconds.toFixed(1)} s = ` +
        `${(chunks.length / ingestSeconds).toFixed(1)} chunks/s; the embeddings server alone on the same ` +
        `chunks in batches of ${batch}: ${embedSeconds.toFixed(1)} s = ${(chunks.length / embedSeconds).toFixed(1)} chunks/s`,
    );
    mkdirSync(join(values.out, '..'), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2));
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
