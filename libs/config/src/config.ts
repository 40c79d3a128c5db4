import { z } from 'zod';

/** Settings every service reads. Each service adds its own keys to these. */
export const CommonConfig = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    )
    .refine((brokers) => brokers.length > 0, 'KAFKA_BROKERS must name at least one broker'),
  /** Prepended to every topic and consumer group, so environments can share a cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/)
    .default(''),
  /** How long the group waits for a silent consumer before moving its partitions to another. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** Partitions a consumer handles at once (at most the topic's partition count). */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(12),
  /**
   * The master key that wraps every conversation's data key (erasure by crypto-shredding): 32 bytes as
   * 64 hex characters or base64. A secret; parsed when the store starts (a bad key stops the service).
   * Losing it loses every customer text; rotating it needs the data keys re-wrapped.
   */
  DATA_KEY_ENCRYPTION_KEY: z.string().min(1),
  /** Address the service's HTTP server (health, metrics; the API for the gateway) binds to. */
  HTTP_HOST: z.string().default('127.0.0.1'),
} as const;

/** The common settings as a service receives them, parsed. */
export type CommonSettings = z.output<z.ZodObject<typeof CommonConfig>>;

/**
 * The embeddings server (OpenAI-compatible /v1/embeddings), for the services that embed text: sessions
 * and inference (the intent fast path), retrieval (knowledge search and indexing). One server for all.
 */
export const EmbeddingsConfig = {
  EMBEDDINGS_BASE_URL: z.url(),
  EMBEDDINGS_MODEL: z.string().min(1),
  EMBEDDINGS_API_KEY: z.string().min(1).default('none'),
};

export type EmbeddingsSettings = z.output<z.ZodObject<typeof EmbeddingsConfig>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once at boot. A bad or missing key stops the process with the full list. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  );
}

/** For main.ts: parse, or print what is wrong and exit 1 before anything starts. */
export function loadConfigOrExit<S extends z.ZodType>(schema: S): z.output<S> {
  try {
    return parseConfig(schema);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
