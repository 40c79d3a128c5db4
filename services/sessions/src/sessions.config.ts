import { z } from 'zod';
import { CommonConfig, EmbeddingsConfig } from '@libs/config';

export const SessionsConfigSchema = z.object({
  ...CommonConfig,
  SESSIONS_PORT: z.coerce.number().int().default(3001),
  /** The assistant's standing instructions; copied into each reply request so replays need no config. */
  SYSTEM_PROMPT: z
    .string()
    .min(1)
    .default(
      // No language here: each reply request names the customer's (conversation.decider.ts).
      'You are a helpful, concise customer-service assistant. If you do not know, say so and offer to ' +
        'connect a human agent.',
    ),
  HISTORY_LIMIT: z.coerce.number().int().min(1).max(100).default(12),
  REPLY_MAX_TOKENS: z.coerce.number().int().min(16).max(4096).default(256),
  /**
   * The context window the reply prompt and the reply must fit together: the smallest among the models
   * a reply may be served by (4096 for Qwen2.5-7B-Instruct-AWQ as served in production). A llama-server
   * with `-c 8192 -np 4` gives each slot 2048.
   */
  MODEL_CONTEXT_TOKENS: z.coerce.number().int().min(512).max(1_048_576).default(4096),
  /** How long a turn waits for retrieval's knowledge before it goes on without (a timer, so an event). */
  KNOWLEDGE_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
  /** The embeddings server sessions classifies messages with (the same one inference uses). */
  ...EmbeddingsConfig,
  /**
   * How long a message's decision waits for the embeddings fast path before leaving the message to
   * inference; 0: sessions never classifies, inference always does (one more Kafka round trip a turn).
   */
  LOCAL_CLASSIFY_TIMEOUT_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /**
   * Messages handled at once: one conversation's in order, different conversations overlapping, so
   * none waits for another one's database round trips or embeddings call ahead of it in the partition.
   */
  SESSIONS_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1_000).default(32),
  /** How often the timer leader looks for due timers. */
  TIMER_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
});

export type SessionsConfig = z.output<typeof SessionsConfigSchema>;
