import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import OpenAI from 'openai';

/** BM25 keyword index over tenant knowledge bases (Elasticsearch). */
export class KeywordIndex {
  private readonly client: ElasticsearchClient;

  constructor(url: string) {
    this.client = new ElasticsearchClient({ node: url, requestTimeout: 5_000 });
  }

  async ping(): Promise<void> {
    await this.client.cluster.health({ wait_for_status: 'yellow', timeout: '2s' });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Dense-vector index over tenant knowledge bases (Milvus). */
export class VectorIndex {
  private readonly client: MilvusClient;

  constructor(address: string) {
    this.client = new MilvusClient({ address, timeout: 5_000 });
  }

  async ping(): Promise<void> {
    const health = await this.client.checkHealth();
    if (!health.isHealthy) throw new Error(`milvus unhealthy: ${JSON.stringify(health.reasons)}`);
  }

  async close(): Promise<void> {
    await this.client.closeConnection();
  }
}

/** Text embeddings from an OpenAI-compatible /v1/embeddings endpoint. */
export class Embedder {
  private readonly client: OpenAI;

  constructor(
    baseURL: string,
    apiKey: string,
    private readonly model: string,
    private readonly dimensions: number,
  ) {
    this.client = new OpenAI({ baseURL, apiKey, maxRetries: 1, timeout: 10_000 });
  }

  async embed(texts: string[]): Promise<number[][]> {
    const response = await this.client.embeddings.create({ model: this.model, input: texts });
    const vectors = response.data.sort((a, b) => a.index - b.index).map((item) => item.embedding);
    for (const vector of vectors) {
      if (vector.length !== this.dimensions) {
        throw new Error(`embedding has ${vector.length} dimensions, configured ${this.dimensions}`);
      }
    }
    return vectors;
  }
}
