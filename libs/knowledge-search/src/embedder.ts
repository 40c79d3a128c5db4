/**
 * Text embeddings from an OpenAI-compatible /v1/embeddings endpoint (bge in production, the local
 * multilingual-e5 server in the stack). Queries and passages are marked as such with `input_type`, which
 * e5 needs ("query: " / "passage: " prefixes, added by the server) and other servers ignore.
 */
export class Embedder {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    readonly model: string,
    private readonly dimensions: number,
    private readonly timeoutMs = 30_000,
  ) {}

  embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    return this.embed([text], 'query', signal).then((vectors) => vectors[0]!);
  }

  embedPassages(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.embed(texts, 'passage', signal);
  }

  async embed(texts: string[], inputType: 'query' | 'passage', signal?: AbortSignal): Promise<number[][]> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const response = await fetch(`${this.baseUrl.replace(/\/$/, '')}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
      body: JSON.stringify({ model: this.model, input: texts, input_type: inputType }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!response.ok) {
      throw new Error(`embeddings answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    const body = (await response.json()) as { data: { index: number; embedding: number[] }[] };
    const vectors = [...body.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
    if (vectors.length !== texts.length) {
      throw new Error(`embeddings returned ${vectors.length} vectors for ${texts.length} inputs`);
    }
    for (const vector of vectors) {
      if (vector.length !== this.dimensions) {
        throw new Error(`embedding has ${vector.length} dimensions, configured ${this.dimensions}`);
      }
    }
    return vectors;
  }
}
