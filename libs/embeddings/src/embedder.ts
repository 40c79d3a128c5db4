import type { EmbeddingsSettings } from '@libs/config';
/** What a service needs to embed texts; `Embedder` is the one adapter, tests script their own. */
export interface Embeddings {
  readonly model: string;
  /** One vector per text, in order, each embedded as a query (e5: "query: "; symmetric similarity). */
  embedQueries(texts: readonly string[], signal?: AbortSignal): Promise<number[][]>;
  ping(): Promise<void>;
}

export interface EmbedderOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  /** When set, every vector must have it (the vector index's dimension); otherwise they must agree. */
  dimensions?: number;
  timeoutMs?: number;
}

/** Texts per request: servers cap batch sizes, and one huge request would hold the server up. */
const BATCH = 32;

/**
 * Text embeddings from an OpenAI-compatible /v1/embeddings endpoint (bge on text-embeddings-inference or
 * vLLM in production, the local multilingual-e5 server in the stack): the inference service's intent fast
 * path and the retrieval service's knowledge search both come here.
 *
 * - Queries and passages are marked with `input_type`, which e5 needs ("query: " / "passage: " prefixes,
 *   added by the server) and other servers ignore.
 * - Vectors are asked for as base64 float32 (`encoding_format`, as the OpenAI API defines it): a quarter of
 *   the JSON and no number parsing. A server that ignores the field and sends arrays is read as well.
 * - Plain `fetch` on a kept-alive connection: the OpenAI SDK costs ~1.5 ms a call more (its request
 *   pipeline), which is a tenth of a short query's whole embedding (bench/RESULTS.md, "Intents").
 */
export class Embedder implements Embeddings {
  private readonly url: string;
  private readonly timeoutMs: number;

  /** The adapter a service's validated settings describe (`EmbeddingsConfig` in @libs/config). */
  static fromSettings(settings: EmbeddingsSettings, dimensions?: number): Embedder {
    return new Embedder({
      baseUrl: settings.EMBEDDINGS_BASE_URL,
      apiKey: settings.EMBEDDINGS_API_KEY,
      model: settings.EMBEDDINGS_MODEL,
      ...(dimensions === undefined ? {} : { dimensions }),
    });
  }

  constructor(private readonly options: EmbedderOptions) {
    this.url = `${options.baseUrl.replace(/\/$/, '')}/embeddings`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get model(): string {
    return this.options.model;
  }

  embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    return this.embed([text], 'query', signal).then((vectors) => vectors[0]!);
  }

  embedQueries(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    return this.embed(texts, 'query', signal);
  }

  embedPassages(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    return this.embed(texts, 'passage', signal);
  }

  async ping(): Promise<void> {
    await this.embed(['ok'], 'query', AbortSignal.timeout(2_000));
  }

  async embed(
    texts: readonly string[],
    inputType: 'query' | 'passage',
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += BATCH) {
      vectors.push(...(await this.request(texts.slice(start, start + BATCH), inputType, signal)));
    }
    const expected = this.options.dimensions ?? vectors[0]?.length;
    for (const vector of vectors) {
      if (vector.length !== expected) {
        throw new Error(`embedding has ${vector.length} dimensions, expected ${expected}`);
      }
    }
    return vectors;
  }

  private async request(
    texts: readonly string[],
    inputType: string,
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
      body: JSON.stringify({
        model: this.model,
        input: texts,
        input_type: inputType,
        encoding_format: 'base64',
      }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!response.ok) {
      throw new Error(`embeddings answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    const body = (await response.json()) as { data?: { index: number; embedding: number[] | string }[] };
    const data = Array.isArray(body.data) ? [...body.data].sort((a, b) => a.index - b.index) : [];
    if (data.length !== texts.length) {
      throw new Error(`embeddings returned ${data.length} vectors for ${texts.length} inputs`);
    }
    return data.map((item) =>
      typeof item.embedding === 'string' ? fromBase64(item.embedding) : item.embedding,
    );
  }
}

/** A base64 string of little-endian float32s, as OpenAI-compatible servers encode them. */
export function fromBase64(encoded: string): number[] {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`a base64 embedding of ${bytes.length} bytes is not float32s`);
  const vector = new Array<number>(bytes.length / 4);
  for (let index = 0; index < vector.length; index++) vector[index] = bytes.readFloatLE(index * 4);
  return vector;
}
