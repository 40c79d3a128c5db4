import { ConsistencyLevelEnum, DataType, ErrorCode, MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { ChunkHit, IndexedChunk } from './indexed-chunk';

/** Ids, tenants and document ids are slugs without quotes; anything else must never reach a filter. */
const SAFE = /^[A-Za-z0-9._~:-]+$/;
function literal(value: string): string {
  if (!SAFE.test(value)) throw new Error(`refusing to put ${JSON.stringify(value)} into a Milvus filter`);
  return `"${value}"`;
}

const METRIC = 'COSINE';
/** The same HNSW everywhere (Milvus Lite locally, Milvus in production); searched with ef 64. */
const HNSW_INDEX = {
  field_name: 'vector',
  index_type: 'HNSW',
  metric_type: METRIC,
  params: { M: 16, efConstruction: 200 },
};

/**
 * The SDK pings every 10 s even with no call in flight; Milvus answers that with GOAWAY ("excess pings")
 * and grpc-js logs it, also after the client was closed. Ping only while calls are in flight, once a
 * minute, or less often than the call timeout when that is longer: Milvus Lite also answers a few pings
 * within one long call (an index build of minutes) with GOAWAY, which fails the call (RESOURCE_EXHAUSTED).
 */
function channelOptions(timeoutMs: number) {
  return {
    'grpc.keepalive_time_ms': Math.max(60_000, timeoutMs),
    'grpc.keepalive_permit_without_calls': 0,
  };
}

/**
 * Dense vectors over tenant knowledge bases (Milvus): one collection whose partition key is the tenant,
 * and every search filtered by tenant. HNSW here and in production; the metric is always passed,
 * since the Node SDK otherwise sends an empty one.
 */
export class VectorIndex {
  private readonly client: MilvusClient;

  constructor(
    address: string,
    private readonly collection: string,
    private readonly dimensions: number,
    timeoutMs = 10_000,
  ) {
    this.client = new MilvusClient({
      address,
      timeout: timeoutMs,
      logLevel: 'warn',
      channelOptions: channelOptions(timeoutMs),
    });
  }

  async ping(): Promise<void> {
    const health = await this.client.checkHealth();
    if (!health.isHealthy) throw new Error(`milvus unhealthy: ${JSON.stringify(health.reasons)}`);
  }

  async ensureCollection(): Promise<void> {
    if (!(await this.exists())) await this.createCollection([HNSW_INDEX]);
    check(await this.client.loadCollectionSync({ collection_name: this.collection }), 'load collection');
  }

  /**
   * Benchmarks' bulk load: the collection without its vector index, so that `buildIndex` builds it
   * once over the loaded and sealed rows (Milvus's advice for bulk loads) instead of segment by segment
   * in the background while searches are being measured. Milvus Lite searches it by brute force until then.
   */
  async createWithoutIndex(): Promise<void> {
    if (await this.exists()) throw new Error(`milvus collection ${this.collection} exists already`);
    await this.createCollection([]);
  }

  /** Builds the HNSW index over every sealed segment (synchronously in Milvus Lite), then loads. */
  async buildIndex(): Promise<void> {
    check(await this.client.createIndex({ collection_name: this.collection, ...HNSW_INDEX }), 'create index');
    check(await this.client.loadCollectionSync({ collection_name: this.collection }), 'load collection');
  }

  private async exists(): Promise<boolean> {
    return Boolean((await this.client.hasCollection({ collection_name: this.collection })).value);
  }

  private async createCollection(indexParams: (typeof HNSW_INDEX)[]): Promise<void> {
    const created = await this.client.createCollection({
      collection_name: this.collection,
      fields: [
        { name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 64 },
        { name: 'tenant_id', data_type: DataType.VarChar, max_length: 64, is_partition_key: true },
        { name: 'document_id', data_type: DataType.VarChar, max_length: 128 },
        { name: 'revision', data_type: DataType.Int64 },
        { name: 'chunk_index', data_type: DataType.Int64 },
        { name: 'title', data_type: DataType.VarChar, max_length: 2_048 },
        { name: 'text', data_type: DataType.VarChar, max_length: 16_384 },
        { name: 'vector', data_type: DataType.FloatVector, dim: this.dimensions },
      ],
      index_params: indexParams,
    });
    check(created, 'create collection');
  }

  async upsert(chunks: readonly IndexedChunk[], vectors: readonly number[][]): Promise<void> {
    if (chunks.length === 0) return;
    const result = await this.client.upsert({
      collection_name: this.collection,
      data: chunks.map((chunk, index) => ({
        id: chunk.id,
        tenant_id: chunk.tenantId,
        document_id: chunk.documentId,
        revision: chunk.revision,
        chunk_index: chunk.chunkIndex,
        title: chunk.title,
        text: chunk.text,
        vector: vectors[index]!,
      })),
    });
    check(result.status, 'upsert');
  }

  /**
   * Seals the collection's growing segment (Milvus "flush"). Milvus searches growing segments by brute
   * force and builds the HNSW index only on sealed ones; Milvus Lite seals only when 128 MB of rows are
   * pending, so without this a knowledge base below that size is never indexed (measured: 0.4 s per
   * search at 10k chunks unsealed, 9 ms sealed). Production Milvus seals by size and idle time itself
   * and rate-limits flushes, hence once per indexed document at most, and only where configured.
   */
  async flush(): Promise<void> {
    const result = await this.client.flushSync({ collection_names: [this.collection] });
    check(result.status, 'flush');
  }

  /** Removes a document's chunks, all of them or all but one revision's. */
  async deleteDocument(tenantId: string, documentId: string, keepRevision?: number): Promise<void> {
    const except = keepRevision === undefined ? '' : ` && revision != ${Math.trunc(keepRevision)}`;
    const result = await this.client.delete({
      collection_name: this.collection,
      filter: `tenant_id == ${literal(tenantId)} && document_id == ${literal(documentId)}${except}`,
    });
    check(result.status, 'delete');
  }

  async search(tenantId: string, vector: number[], k: number): Promise<ChunkHit[]> {
    const response = await this.client.search({
      collection_name: this.collection,
      anns_field: 'vector',
      data: [vector],
      limit: k,
      filter: `tenant_id == ${literal(tenantId)}`,
      // The primary key too: Milvus Lite leaves it out of the hits unless asked (every id was "undefined").
      output_fields: ['id', 'document_id', 'title', 'chunk_index', 'text'],
      metric_type: METRIC,
      params: { ef: Math.max(64, k) },
    });
    check(response.status, 'search');
    return response.results.map((hit) => ({
      id: String(hit.id),
      documentId: String(hit.document_id),
      title: String(hit.title),
      chunkIndex: Number(hit.chunk_index),
      text: String(hit.text),
      score: hit.score,
    }));
  }

  /** How many chunks a document has in the collection (of one revision, or all). */
  async count(tenantId: string, documentId: string, revision?: number): Promise<number> {
    const only = revision === undefined ? '' : ` && revision == ${Math.trunc(revision)}`;
    const response = await this.client.query({
      collection_name: this.collection,
      filter: `tenant_id == ${literal(tenantId)} && document_id == ${literal(documentId)}${only}`,
      output_fields: ['count(*)'],
      consistency_level: ConsistencyLevelEnum.Strong,
    });
    check(response.status, 'count');
    return Number(response.data[0]?.['count(*)'] ?? 0);
  }

  /** Drops the whole collection: tests and benchmarks only. */
  async drop(): Promise<void> {
    await this.client.dropCollection({ collection_name: this.collection });
  }

  async close(): Promise<void> {
    await this.client.closeConnection();
  }
}

function check(status: { error_code?: string | number; reason?: string }, what: string): void {
  if (status.error_code !== undefined && status.error_code !== ErrorCode.SUCCESS) {
    throw new Error(`milvus ${what} failed: ${status.error_code} ${status.reason ?? ''}`);
  }
}
