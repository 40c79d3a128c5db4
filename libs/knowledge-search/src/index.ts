/**
 * The search backends of tenant knowledge bases, one adapter each (Elasticsearch BM25, Milvus vectors;
 * the embeddings server's is `@libs/embeddings`), and their circuit breakers. A library of its own so the
 * retrieval service and the benchmarks (which bulk-load synthetic chunks through the same mapping) share
 * one implementation.
 */
export * from './indexed-chunk';
export * from './keyword-index';
export * from './vector-index';
export * from './backend-breakers';
export * from './query-embedding-cache';
