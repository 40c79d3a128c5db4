import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { searchableText, type ChunkHit, type IndexedChunk } from './indexed-chunk';

interface ChunkSource {
  tenant_id: string;
  document_id: string;
  revision: number;
  chunk_index: number;
  title: string;
  text: string;
}

/**
 * BM25 over tenant knowledge bases (Elasticsearch): one index, every query filtered by tenant (and
 * routed by it, so a tenant's chunks live on one shard). The local server has no CJK analysis plugin,
 * so Chinese is matched as character unigrams (standard tokenizer) plus bigrams (a 2-gram shingle
 * filter); production may swap in ik or smartcn in the same mapping.
 */
export class KeywordIndex {
  private readonly client: ElasticsearchClient;

  constructor(
    url: string,
    private readonly index: string,
    requestTimeoutMs = 10_000,
  ) {
    this.client = new ElasticsearchClient({ node: url, requestTimeout: requestTimeoutMs, maxRetries: 0 });
  }

  async ping(): Promise<void> {
    await this.client.cluster.health({ wait_for_status: 'yellow', timeout: '2s' });
  }

  async ensureIndex(): Promise<void> {
    if (await this.client.indices.exists({ index: this.index })) return;
    try {
      await this.client.indices.create({
        index: this.index,
        settings: {
          number_of_shards: 1,
          number_of_replicas: 0,
          analysis: {
            filter: {
              bigrams: {
                type: 'shingle',
                min_shingle_size: 2,
                max_shingle_size: 2,
                output_unigrams: false,
                token_separator: '',
              },
            },
            analyzer: {
              bigram: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'bigrams'] },
            },
          },
        },
        mappings: {
          dynamic: 'strict',
          properties: {
            tenant_id: { type: 'keyword' },
            document_id: { type: 'keyword' },
            revision: { type: 'integer' },
            chunk_index: { type: 'integer' },
            title: { type: 'keyword', index: false },
            text: { type: 'keyword', index: false },
            content: {
              type: 'text',
              analyzer: 'standard',
              fields: { bigram: { type: 'text', analyzer: 'bigram' } },
            },
          },
        },
      });
    } catch (error) {
      // Another replica created it first.
      if (!String(error).includes('resource_already_exists_exception')) throw error;
    }
  }

  async upsert(chunks: readonly IndexedChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    const operations = chunks.flatMap((chunk) => [
      { index: { _index: this.index, _id: chunk.id, routing: chunk.tenantId } },
      {
        tenant_id: chunk.tenantId,
        document_id: chunk.documentId,
        revision: chunk.revision,
        chunk_index: chunk.chunkIndex,
        title: chunk.title,
        text: chunk.text,
        content: searchableText(chunk),
      },
    ]);
    const response = await this.client.bulk({ operations, refresh: 'wait_for' });
    if (response.errors) {
      const failed = response.items.find((item) => item.index?.error)?.index?.error;
      throw new Error(`elasticsearch bulk indexing failed: ${JSON.stringify(failed)}`);
    }
  }

  /**
   * Removes a document's chunks, all of them or all but one revision's. The local server has no
   * delete-by-query (no reindex module), so ids are searched and bulk-deleted page by page.
   */
  async deleteDocument(tenantId: string, documentId: string, keepRevision?: number): Promise<void> {
    const query = {
      bool: {
        filter: [{ term: { tenant_id: tenantId } }, { term: { document_id: documentId } }],
        ...(keepRevision === undefined ? {} : { must_not: [{ term: { revision: keepRevision } }] }),
      },
    };
    for (;;) {
      const found = await this.client.search({
        index: this.index,
        routing: tenantId,
        query,
        size: 1_000,
        _source: false,
      });
      const ids = found.hits.hits.map((hit) => hit._id).filter((id): id is string => id !== undefined);
      if (ids.length === 0) return;
      await this.client.bulk({
        operations: ids.map((id) => ({ delete: { _index: this.index, _id: id, routing: tenantId } })),
        refresh: 'wait_for',
      });
    }
  }

  async search(tenantId: string, text: string, k: number, signal?: AbortSignal): Promise<ChunkHit[]> {
    const response = await this.client.search<ChunkSource>(
      {
        index: this.index,
        routing: tenantId,
        size: k,
        query: {
          bool: {
            filter: [{ term: { tenant_id: tenantId } }],
            must: [
              {
                multi_match: { query: text, fields: ['content', 'content.bigram^2'], type: 'most_fields' },
              },
            ],
          },
        },
      },
      { signal },
    );
    return response.hits.hits.flatMap((hit) => {
      const source = hit._source;
      if (!source || hit._id === undefined) return [];
      return [
        {
          id: hit._id,
          documentId: source.document_id,
          title: source.title,
          chunkIndex: source.chunk_index,
          text: source.text,
          score: hit._score ?? 0,
        },
      ];
    });
  }

  /** How many chunks a document has in the index (of one revision, or all). */
  async count(tenantId: string, documentId: string, revision?: number): Promise<number> {
    await this.client.indices.refresh({ index: this.index });
    const filter: object[] = [{ term: { tenant_id: tenantId } }, { term: { document_id: documentId } }];
    if (revision !== undefined) filter.push({ term: { revision } });
    return (await this.client.count({ index: this.index, routing: tenantId, query: { bool: { filter } } }))
      .count;
  }

  /** Drops the whole index: tests and benchmarks only. */
  async drop(): Promise<void> {
    await this.client.indices.delete({ index: this.index, ignore_unavailable: true });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
