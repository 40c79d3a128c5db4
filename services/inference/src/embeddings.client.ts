/** The injection token of the intent fast path's embeddings (`Embeddings` from `@libs/embeddings`). */
export const EMBEDDINGS_CLIENT = Symbol('EMBEDDINGS_CLIENT');
