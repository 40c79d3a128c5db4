/** One ranked list from one retriever, best first. */
export interface RankedList {
  /** Weight of this retriever in the fusion (a tenant setting; 1 by default). */
  weight: number;
  ids: readonly string[];
}

export interface Fused {
  id: string;
  score: number;
}

/** The usual RRF constant (Cormack et al. 2009): damps the advantage of the very first ranks. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion: each list adds weight / (k + rank) to the ids it holds (rank from 1). Only
 * ranks count, never the retrievers' raw scores, which live on unrelated scales (BM25 vs cosine).
 * Ties keep the order of first appearance, so the result is deterministic.
 */
export function reciprocalRankFusion(lists: readonly RankedList[], k: number = RRF_K): Fused[] {
  const scores = new Map<string, number>();
  for (const list of lists) {
    list.ids.forEach((id, position) => {
      scores.set(id, (scores.get(id) ?? 0) + list.weight / (k + position + 1));
    });
  }
  return [...scores.entries()].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
