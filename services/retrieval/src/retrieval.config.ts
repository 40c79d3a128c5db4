import { z } from 'zod';
import { CommonConfig } from '@libs/config';

export const RetrievalConfigSchema = z.object({
  ...CommonConfig,
  RETRIEVAL_PORT: z.coerce.number().int().default(3003),
  ELASTICSEARCH_URL: z.url(),
  MILVUS_ADDRESS: z.string().regex(/^[^:]+:\d+$/, 'host:port'),
  EMBEDDINGS_BASE_URL: z.url(),
  EMBEDDINGS_API_KEY: z.string().default('none'),
  EMBEDDINGS_MODEL: z.string().min(1),
  EMBEDDINGS_DIMENSIONS: z.coerce.number().int().min(1),
});

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;
