import { z } from 'zod';
import { CommonConfig } from '@libs/config';

export const InferenceConfigSchema = z.object({
  ...CommonConfig,
  INFERENCE_PORT: z.coerce.number().int().default(3002),
  /** OpenAI-compatible endpoint: vLLM in production, llama-server locally. */
  LLM_BASE_URL: z.url(),
  LLM_API_KEY: z.string().min(1),
  LLM_MODEL: z.string().min(1),
  /** Whole-reply deadline; a slower model call becomes conversation.reply-failed.v1 (model-timeout). */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** No first token within this (queue wait excluded) is a missed deadline too. */
  LLM_FIRST_TOKEN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Model calls at once: the server's batch slots (llama-server -np, vLLM's concurrency). */
  LLM_SLOTS: z.coerce.number().int().min(1).max(1_024).default(4),
  /** Calls one tenant may have waiting for a slot; more are retried later from Kafka (back-pressure). */
  LLM_MAX_QUEUED_PER_TENANT: z.coerce.number().int().min(1).default(100),
  /** Kafka messages handled at once (queued and running); at the limit the consumer stops fetching. */
  INFERENCE_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(200),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.3),
  /** Streamed tokens are batched into one chunk event per interval or size, whichever comes first. */
  CHUNK_FLUSH_MS: z.coerce.number().int().min(10).default(150),
  CHUNK_MAX_CHARS: z.coerce.number().int().min(1).default(120),
  /** OpenAI-compatible /v1/embeddings for the intent fast path (the same server retrieval uses). */
  EMBEDDINGS_BASE_URL: z.url(),
  EMBEDDINGS_MODEL: z.string().min(1),
  EMBEDDINGS_API_KEY: z.string().min(1).default('none'),
  /** Deadline for one model task (intent, slots, summary); a slower one is recorded as model-timeout. */
  MODEL_TASK_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
});

export type InferenceConfig = z.output<typeof InferenceConfigSchema>;
