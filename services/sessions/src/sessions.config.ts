import { z } from 'zod';
import { CommonConfig } from '@libs/config';

export const SessionsConfigSchema = z.object({
  ...CommonConfig,
  SESSIONS_PORT: z.coerce.number().int().default(3001),
  /** The assistant's standing instructions; copied into each reply request so replays need no config. */
  SYSTEM_PROMPT: z
    .string()
    .min(1)
    .default(
      'You are a helpful, concise customer-service assistant. Reply in the language the customer writes in ' +
        '(Chinese or English). If you do not know, say so and offer to connect a human agent.',
    ),
  HISTORY_LIMIT: z.coerce.number().int().min(1).max(100).default(12),
  REPLY_MAX_TOKENS: z.coerce.number().int().min(16).max(4096).default(256),
});

export type SessionsConfig = z.output<typeof SessionsConfigSchema>;
