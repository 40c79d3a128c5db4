/**
 * Query embeddings by normalised query text, least recently used out first. Customers ask the same
 * questions again and again, and embedding one costs a call to the embeddings server (61 ms p50 on the
 * local CPU server, more than the whole search). A vector depends only on the text and the model, which
 * is fixed for a process, so entries never go stale. Size 0 keeps nothing.
 */
export class QueryEmbeddingCache {
  /** A Map iterates in insertion order: the first key is the least recently used one. */
  private readonly vectors = new Map<string, number[]>();

  constructor(private readonly maxEntries: number) {}

  get(text: string): number[] | undefined {
    const key = normaliseQuery(text);
    const vector = this.vectors.get(key);
    if (vector === undefined) return undefined;
    this.vectors.delete(key);
    this.vectors.set(key, vector);
    return vector;
  }

  set(text: string, vector: number[]): void {
    if (this.maxEntries === 0) return;
    const key = normaliseQuery(text);
    this.vectors.delete(key);
    this.vectors.set(key, vector);
    if (this.vectors.size > this.maxEntries) this.vectors.delete(this.vectors.keys().next().value!);
  }

  get size(): number {
    return this.vectors.size;
  }
}

/**
 * The cache key of a query: Unicode NFKC (full-width letters, digits and punctuation, common in Chinese
 * input, become their ASCII forms) and whitespace collapsed. Only the key: the embeddings server still
 * gets the text as typed, so a miss searches exactly as without the cache. Case is kept: the model sees it.
 */
export function normaliseQuery(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, ' ').trim();
}
