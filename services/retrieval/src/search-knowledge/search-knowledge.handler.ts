import { Inject, Injectable } from '@nestjs/common';
import type { KnowledgeSearchResult } from '@contracts';
import { reciprocalRankFusion } from '@libs/knowledge';
import {
  BackendBreakers,
  KeywordIndex,
  QueryEmbeddingCache,
  VectorIndex,
  type ChunkHit,
} from '@libs/knowledge-search';
import { Embedder } from '@libs/embeddings';
import { Reranker } from './reranker';
import type { SearchKnowledgeQuery } from './search-knowledge.query';
import { SearchWeights } from './search-weights';

/** Candidates each retriever contributes to the fusion. */
export const CANDIDATES_PER_RETRIEVER = 20;
const MAX_CITATION_CHARS = 4_000;

/** The search result's contract is @contracts' KnowledgeSearchResultSchema, which the gateway checks. */
export type { KnowledgeSearchResult };

/**
 * Hybrid search: BM25 and vector top-k, each behind its backends' breakers, fused by reciprocal rank
 * fusion with the tenant's weights, reranked (no-op by default), best topK with citations. A backend
 * that fails only marks its half degraded; both failing gives no results, degraded both, never an error.
 */
@Injectable()
export class SearchKnowledgeHandler {
  constructor(
    @Inject(KeywordIndex) private readonly keywords: KeywordIndex,
    @Inject(VectorIndex) private readonly vectors: VectorIndex,
    @Inject(Embedder) private readonly embedder: Embedder,
    @Inject(BackendBreakers) private readonly breakers: BackendBreakers,
    @Inject(SearchWeights) private readonly weights: SearchWeights,
    @Inject(Reranker) private readonly reranker: Reranker,
    @Inject(QueryEmbeddingCache) private readonly queryVectors: QueryEmbeddingCache,
  ) {}

  async execute(query: SearchKnowledgeQuery): Promise<KnowledgeSearchResult> {
    const started = performance.now();
    const useKeyword = query.mode !== 'vector';
    const useVector = query.mode !== 'keyword';
    const [keyword, vector, weights] = await Promise.all([
      useKeyword ? settle(this.keywordHits(query)) : Promise.resolve(null),
      useVector ? settle(this.vectorHits(query)) : Promise.resolve(null),
      this.weights.forTenant(query.tenantId),
    ]);
    const byId = new Map<string, ChunkHit>();
    for (const hit of [...(keyword ?? []), ...(vector ?? [])]) if (!byId.has(hit.id)) byId.set(hit.id, hit);
    const fused = reciprocalRankFusion([
      { weight: weights.keyword, ids: (keyword ?? []).map((hit) => hit.id) },
      { weight: weights.vector, ids: (vector ?? []).map((hit) => hit.id) },
    ]);
    const reranked = await this.reranker.rerank(
      query.text,
      fused.map(({ id, score }) => ({ ...byId.get(id)!, fusedScore: score })),
    );
    return {
      results: reranked.slice(0, query.topK).map(({ candidate, score }) => ({
        documentId: candidate.documentId,
        title: candidate.title.slice(0, 500) || candidate.documentId,
        chunkIndex: candidate.chunkIndex,
        score,
        text: candidate.text.slice(0, MAX_CITATION_CHARS),
      })),
      degraded: { keyword: useKeyword && keyword === undefined, vector: useVector && vector === undefined },
      timings: { totalMs: Math.round((performance.now() - started) * 100) / 100 },
    };
  }

  private keywordHits(query: SearchKnowledgeQuery): Promise<ChunkHit[]> {
    return this.breakers.run('elasticsearch', (signal) =>
      this.keywords.search(query.tenantId, query.text, CANDIDATES_PER_RETRIEVER, signal),
    );
  }

  private async vectorHits(query: SearchKnowledgeQuery): Promise<ChunkHit[]> {
    const vector = await this.queryVector(query.text);
    return this.breakers.run('milvus', () =>
      this.vectors.search(query.tenantId, vector, CANDIDATES_PER_RETRIEVER),
    );
  }

  /** A repeated question skips the embeddings server, and its breaker: a cached vector is still good. */
  private async queryVector(text: string): Promise<number[]> {
    const cached = this.queryVectors.get(text);
    if (cached) return cached;
    const vector = await this.breakers.run('embeddings', (signal) => this.embedder.embedQuery(text, signal));
    this.queryVectors.set(text, vector);
    return vector;
  }
}

/** The hits, or undefined when the retriever failed (the failure is what the breaker counted). */
function settle(hits: Promise<ChunkHit[]>): Promise<ChunkHit[] | undefined> {
  return hits.then(
    (found) => found,
    () => undefined,
  );
}
