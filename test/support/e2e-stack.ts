import { randomBytes } from 'node:crypto';
import { createKafka, ensureTopics } from '@libs/messaging';
import { createLogger } from '@libs/platform';
import { ServiceProcesses } from './service-processes';
import { createTestDatabase, type TestDatabase } from './test-database';
import { dropTopicsUnder } from './test-kafka';

/**
 * An end-to-end suite's own slice of the local stack: a database, the engine's topics under a fresh
 * prefix, and the five services configured for them (logs in ~/.cache/convo-engine/logs/e2e-<prefix>).
 * The suite seeds what the services read at boot between `create` and starting them.
 */
export class E2eStack {
  private processes: ServiceProcesses | null = null;

  private constructor(
    private readonly label: string,
    readonly db: TestDatabase,
    readonly prefix: string,
  ) {}

  /** Fails at once, naming the variable, when the stack's settings are not in the environment. */
  static async create(label: string, requiredEnv: readonly string[] = []): Promise<E2eStack> {
    for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', ...requiredEnv]) {
      if (!process.env[key])
        throw new Error(`${key} is not set: run through \`npm test\`, which starts the stack`);
    }
    const prefix = `e2e-${label}-${randomBytes(4).toString('hex')}.`;
    const db = await createTestDatabase(`e2e_${label}`);
    const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
    await ensureTopics(
      createKafka(
        { brokers, clientId: `e2e-${label}-setup`, topicPrefix: prefix },
        createLogger('e2e', 'warn'),
      ),
      prefix,
    );
    return new E2eStack(label, db, prefix);
  }

  get logDir(): string {
    return `${process.env.HOME}/.cache/convo-engine/logs/e2e-${this.prefix}`;
  }

  /** The services on ports from `basePort`, with the suite's settings over the common ones; not started. */
  services(basePort: number, env: NodeJS.ProcessEnv = {}): ServiceProcesses {
    this.processes = new ServiceProcesses(
      {
        ...process.env,
        DATABASE_URL: this.db.url,
        KAFKA_TOPIC_PREFIX: this.prefix,
        GATEWAY_INSTANCE_ID: `e2e-${this.label}`,
        LOG_LEVEL: 'info',
        // A killed service's partitions move to its restarted self within the tests' patience.
        KAFKA_SESSION_TIMEOUT_MS: '8000',
        ...env,
      },
      basePort,
      this.logDir,
    );
    return this.processes;
  }

  /** Stops the services, then drops the database and the topics. */
  async stop(): Promise<void> {
    await this.processes?.stopAll();
    await this.db.drop();
    await dropTopicsUnder(this.prefix);
  }
}
