import { z } from 'zod';
import { CommonConfig } from '@libs/config';

/** What `init` reads: where the database and brokers are, and how to create the topics. */
export const InitConfigSchema = z.object({
  DATABASE_URL: CommonConfig.DATABASE_URL,
  KAFKA_BROKERS: CommonConfig.KAFKA_BROKERS,
  KAFKA_TOPIC_PREFIX: CommonConfig.KAFKA_TOPIC_PREFIX,
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
  LOG_LEVEL: CommonConfig.LOG_LEVEL,
});
