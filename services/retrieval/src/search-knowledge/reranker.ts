import type { ChunkHit } from '@libs/knowledge-search';

export interface RerankCandidate extends ChunkHit {
  /** The fused (RRF) score the candidate arrives with. */
  fusedScore: number;
}

/**
 * An optional second opinion on the fused candidates (a cross-encoder, say). The default keeps the
 * fused order: no Chinese-capable reranker with its weights in a registry package exists for the local
 * stack. An implementation returns the candidates it keeps, best first, with the score to cite.
 */
export abstract class Reranker {
  abstract rerank(
    query: string,
    candidates: readonly RerankCandidate[],
  ): Promise<{ candidate: RerankCandidate; score: number }[]>;
}

export class KeepFusedOrder extends Reranker {
  rerank(_query: string, candidates: readonly RerankCandidate[]) {
    return Promise.resolve(candidates.map((candidate) => ({ candidate, score: candidate.fusedScore })));
  }
}
