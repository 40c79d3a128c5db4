/**
 * The embeddings server's one adapter, shared by the inference service (the intent fast path) and the
 * retrieval service (knowledge search and indexing).
 */
export * from './embedder';
