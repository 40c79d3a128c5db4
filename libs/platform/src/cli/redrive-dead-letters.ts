/**
 * Re-drives the dead letters of one consumer group once the bug that parked them is fixed: each goes
 * back to its source topic for that group only, at most once (see redriveDeadLetters).
 *   npm run dlq:redrive -- --group <consumerGroup> [--type <eventType>] [--dry-run]
 * Prints one JSON line per dead letter re-driven (or, with --dry-run, to be), then a summary line.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { CommonConfig, loadConfigOrExit } from '@libs/config';
import { createKafka, redriveDeadLetters } from '@libs/messaging';
import { createLogger } from '../logger';

const USAGE = 'usage: npm run dlq:redrive -- --group <consumerGroup> [--type <eventType>] [--dry-run]\n';

function parseArguments(): { group: string; type?: string; dryRun: boolean } {
  try {
    const { values } = parseArgs({
      options: { group: { type: 'string' }, type: { type: 'string' }, 'dry-run': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    if (!values.group) throw new Error('--group is required');
    return { group: values.group, type: values.type, dryRun: values['dry-run'] ?? false };
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const args = parseArguments();
  const config = loadConfigOrExit(
    z.object({
      KAFKA_BROKERS: CommonConfig.KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: CommonConfig.KAFKA_TOPIC_PREFIX,
      LOG_LEVEL: CommonConfig.LOG_LEVEL,
    }),
  );
  const logger = createLogger('dlq-redrive', config.LOG_LEVEL, pino.destination(2));
  const kafka = createKafka(
    { brokers: config.KAFKA_BROKERS, clientId: 'dlq-redrive', topicPrefix: config.KAFKA_TOPIC_PREFIX },
    logger,
  );
  const letters = await redriveDeadLetters({
    kafka,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    logger,
    ...args,
  });
  for (const letter of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
  process.stdout.write(`${JSON.stringify({ ...args, count: letters.length })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dlq:redrive failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
