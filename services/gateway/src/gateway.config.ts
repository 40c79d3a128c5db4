import { z } from 'zod';
import { CommonConfig } from '@libs/config';
import { ChannelConnectorsSchema } from './channels/channels.config';

export const GatewayConfigSchema = z.object({
  ...CommonConfig,
  GATEWAY_PORT: z.coerce.number().int().default(3000),
  /** Distinguishes gateway replicas: each fans out every event to its own WebSocket clients. */
  GATEWAY_INSTANCE_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default('local'),
  /** Largest accepted request body; a message's text is further limited to 32 KiB. */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_048_576)
    .default(64 * 1024),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /** Largest knowledge document accepted by `PUT /v1/knowledge/documents/{id}` (stored in PostgreSQL). */
  KNOWLEDGE_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1_048_576)
    .default(10 * 1_048_576),
  /** The retrieval service, which `POST /v1/knowledge/search` forwards to (its internal route). */
  RETRIEVAL_URL: z.url().default('http://127.0.0.1:3003'),
  /**
   * Default rate limits, per rolling minute, for tenants that set none (PUT /v1/settings/limits):
   * requests and model tokens of the tenant as a whole, and of each of its API keys.
   */
  RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(6_000),
  RATE_LIMIT_TOKENS_PER_MINUTE: z.coerce.number().int().min(1).default(2_000_000),
  RATE_LIMIT_KEY_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(6_000),
  RATE_LIMIT_KEY_TOKENS_PER_MINUTE: z.coerce.number().int().min(1).default(2_000_000),
  /** How long a replica keeps a tenant's limits before reading them again (a change on it applies at once). */
  RATE_LIMITS_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  /** How long POST /v1/chat/completions waits for the turn's reply before answering 504. */
  CHAT_COMPLETION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** IM channel connectors (Feishu apps, Telegram bots), a JSON array; see the README's "IM channels". */
  CHANNEL_CONNECTORS: ChannelConnectorsSchema,
  /** Webhook deliveries older than this (or this far ahead) are refused as stale. */
  CHANNEL_MAX_AGE_SECONDS: z.coerce.number().int().min(10).default(300),
  /** How often a tenant's word list is checked for a new version (one lookup per tenant at most this often). */
  CONTENT_FILTER_REFRESH_MS: z.coerce.number().int().min(0).default(2_000),
  /** Largest `PUT /v1/settings/content-filter` body: the whole list (80k words is about 2 MiB). */
  CONTENT_FILTER_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1_048_576)
    .default(16 * 1_048_576),
});

export type GatewayConfig = z.output<typeof GatewayConfigSchema>;
