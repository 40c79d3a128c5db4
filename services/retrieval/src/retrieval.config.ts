import { z } from 'zod';
import { CommonConfig, EmbeddingsConfig } from '@libs/config';

export const RetrievalConfigSchema = z
  .object({
    ...CommonConfig,
    RETRIEVAL_PORT: z.coerce.number().int().default(3003),
    ELASTICSEARCH_URL: z.url(),
    MILVUS_ADDRESS: z.string().regex(/^[^:]+:\d+$/, 'host:port'),
    ...EmbeddingsConfig,
    EMBEDDINGS_DIMENSIONS: z.coerce.number().int().min(1),
    /** The Elasticsearch index and the Milvus collection holding every tenant's chunks. */
    KNOWLEDGE_INDEX: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,63}$/, 'lowercase letters, digits and _')
      .default('knowledge_chunks'),
    /**
     * Events handled at once (customer messages' searches, documents' indexing); one document's events in
     * order. None waits for an unrelated one ahead of it in its partition, and no partition is paused.
     */
    RETRIEVAL_MAX_IN_FLIGHT: z.coerce.number().int().min(2).max(1_000).default(32),
    /** Of those, documents indexed (or deleted) at once; below RETRIEVAL_MAX_IN_FLIGHT, so searches always run. */
    INDEXING_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
    /** Chunks embedded and written per batch while indexing (and per checkpoint). */
    INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(256).default(16),
    /**
     * Seal Milvus's growing segment after each indexed document, so the HNSW index covers it: needed by
     * Milvus Lite (the local stack), which seals only at 128 MB; production Milvus seals by itself and
     * rate-limits flushes, so compose and k8s turn it off.
     */
    MILVUS_FLUSH_AFTER_INDEXING: z.stringbool().default(true),
    /** Query embeddings kept per normalised query text (LRU); 0 turns the cache off. */
    QUERY_EMBEDDING_CACHE_SIZE: z.coerce.number().int().min(0).default(1_000),
    /** Query-path circuit breakers, one per backend. */
    BREAKER_TIMEOUT_MS: z.coerce.number().int().min(10).default(500),
    BREAKER_FAILURES_TO_OPEN: z.coerce.number().int().min(1).default(5),
    BREAKER_OPEN_MS: z.coerce.number().int().min(100).default(30_000),
    /** Default weights of BM25 and vector ranks in the fusion (equal unless a tenant says otherwise). */
    FUSION_KEYWORD_WEIGHT: z.coerce.number().min(0).default(1),
    FUSION_VECTOR_WEIGHT: z.coerce.number().min(0).default(1),
  })
  .refine((config) => config.INDEXING_MAX_IN_FLIGHT < config.RETRIEVAL_MAX_IN_FLIGHT, {
    path: ['INDEXING_MAX_IN_FLIGHT'],
    message: 'must be below RETRIEVAL_MAX_IN_FLIGHT, or indexing could take every slot from the searches',
  });

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;
