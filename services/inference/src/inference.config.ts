import { z } from 'zod';
import { CommonConfig, EmbeddingsConfig } from '@libs/config';

/** Optional, and unset when empty: compose passes `${VAR:-}` through as ''. */
function unsetWhenEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

/** A comma-separated list of tenant ids (empty: none). */
const TenantList = z
  .string()
  .default('')
  .transform(
    (list) =>
      new Set(
        list
          .split(',')
          .map((id) => id.trim())
          .filter((id) => id.length > 0),
      ),
  );

export const InferenceConfigSchema = z
  .object({
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
    /** The intent fast path's embeddings (the same server sessions and retrieval use). */
    ...EmbeddingsConfig,
    /** Deadline for one model task (intent, slots, summary); a slower one is recorded as model-timeout. */
    /** How often a tenant's word list is checked for a new version (one lookup per tenant at most this often). */
    CONTENT_FILTER_REFRESH_MS: z.coerce.number().int().min(0).default(2_000),
    MODEL_TASK_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
    /**
     * An optional second OpenAI-compatible backend (a commercial API: OpenAI, DeepSeek, DashScope...).
     * Set by LLM_FALLBACK_BASE_URL (then the key and model are required); without it a failed primary
     * fails the turn.
     */
    LLM_FALLBACK_BASE_URL: unsetWhenEmpty(z.url()),
    LLM_FALLBACK_API_KEY: unsetWhenEmpty(z.string().min(1)),
    LLM_FALLBACK_MODEL: unsetWhenEmpty(z.string().min(1)),
    /** The fallback's own slots: calls to it at once. */
    LLM_FALLBACK_SLOTS: z.coerce.number().int().min(1).max(1_024).default(2),
    /** Tenants whose replies go to the fallback by choice (and to the primary if the fallback fails). */
    LLM_FALLBACK_TENANTS: TenantList,
    /**
     * An optional candidate model (canary), tried first for a share of each tenant's conversations set in
     * LLM_CANARY_SPLIT_FILE (JSON `{ "default": 0, "tenants": { "<tenantId>": 10 } }`, percent), which is
     * re-read when it changes: promote or roll back by editing it, no restart. A failing canary falls
     * back to the usual route.
     */
    LLM_CANARY_BASE_URL: unsetWhenEmpty(z.url()),
    LLM_CANARY_API_KEY: unsetWhenEmpty(z.string().min(1)),
    LLM_CANARY_MODEL: unsetWhenEmpty(z.string().min(1)),
    LLM_CANARY_SLOTS: z.coerce.number().int().min(1).max(1_024).default(2),
    LLM_CANARY_SPLIT_FILE: unsetWhenEmpty(z.string().min(1)),
    /** How often the split file is checked for a change. */
    LLM_CANARY_SPLIT_POLL_MS: z.coerce.number().int().min(50).default(2_000),
    /** A started stream with no token for this long has stalled and moves to the other backend. */
    LLM_STALL_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** Retries on the same backend, with jittered backoff, of a connection error or 5xx before the first token. */
    LLM_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    LLM_RETRY_BASE_MS: z.coerce.number().int().min(1).default(200),
    /** Consecutive faults (errors, missed deadlines) that open a backend's circuit breaker. */
    LLM_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
    /** An open breaker lets one test call through after this long. */
    LLM_BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(100).default(15_000),
  })
  .superRefine((config, context) => {
    // The URL switches the fallback on; a key alone (an optional k8s Secret) is harmless.
    if (config.LLM_FALLBACK_BASE_URL !== undefined) {
      for (const key of ['LLM_FALLBACK_API_KEY', 'LLM_FALLBACK_MODEL'] as const) {
        if (config[key] === undefined)
          context.addIssue({ code: 'custom', path: [key], message: `required with LLM_FALLBACK_BASE_URL` });
      }
    }
    if (config.LLM_CANARY_BASE_URL !== undefined) {
      for (const key of ['LLM_CANARY_API_KEY', 'LLM_CANARY_MODEL', 'LLM_CANARY_SPLIT_FILE'] as const) {
        if (config[key] === undefined)
          context.addIssue({ code: 'custom', path: [key], message: `required with LLM_CANARY_BASE_URL` });
      }
    }
    if (config.LLM_FALLBACK_BASE_URL === undefined && config.LLM_FALLBACK_TENANTS.size > 0) {
      context.addIssue({
        code: 'custom',
        path: ['LLM_FALLBACK_TENANTS'],
        message: 'LLM_FALLBACK_TENANTS routes tenants to a fallback, but LLM_FALLBACK_BASE_URL is not set',
      });
    }
  });

export type InferenceConfig = z.output<typeof InferenceConfigSchema>;
