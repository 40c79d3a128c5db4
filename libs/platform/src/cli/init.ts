/**
 * One-shot setup of a deployment: applies database migrations and creates the Kafka topics.
 * Idempotent; run before the services start (deploy/local/up, the `init` service in docker-compose).
 *   node dist/libs/platform/src/cli/init.js
 */
import 'reflect-metadata';
import { loadConfigOrExit } from '@libs/config';
import { withDataSource } from '@libs/event-store';
import { createKafka, ensureTopics } from '@libs/messaging';
import { createLogger } from '../logger';
import { InitConfigSchema } from './init.config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(InitConfigSchema);
  const logger = createLogger('init', config.LOG_LEVEL);
  const applied = await withDataSource(config.DATABASE_URL, 'init', (db) =>
    db.runMigrations({ transaction: 'each' }),
  );
  logger.info({ applied: applied.map((migration) => migration.name) }, 'database migrated');
  const kafka = createKafka(
    { brokers: config.KAFKA_BROKERS, clientId: 'init', topicPrefix: config.KAFKA_TOPIC_PREFIX },
    logger,
  );
  const created = await ensureTopics(kafka, config.KAFKA_TOPIC_PREFIX, config.KAFKA_REPLICATION_FACTOR);
  logger.info({ created }, 'kafka topics ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`init failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
