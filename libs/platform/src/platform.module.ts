import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import {
  ConversationStreams,
  EventStore,
  InboxRepository,
  OutboxReader,
  TenantRepository,
  createDataSource,
} from '@libs/event-store';
import { KafkaEventServer, KafkaPublisher, OutboxRelay, createKafka } from '@libs/messaging';
import type { CommonSettings } from '@libs/config';
import { HealthController, HealthRegistry } from './health';
import { ProblemFilter } from './http/problem.filter';
import { PINO_LOGGER, createLogger, type Logger } from './logger';
import { Metrics } from './metrics';

export interface PlatformOptions {
  serviceName: string;
  logLevel: string;
  databaseUrl: string;
  databasePoolSize: number;
  kafkaBrokers: string[];
  topicPrefix: string;
  /** Set for services that consume conversation events. */
  consumer?: {
    groupId: string;
    fromLatest?: boolean;
    concurrency?: number;
    sessionTimeoutMs?: number;
    /** Handlers that take seconds (model calls) run in the background, pausing only their partition. */
    detached?: boolean;
  };
  /** Services that append run an outbox relay; one of them publishes at a time. */
  relay: boolean;
}

export const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');
export const KAFKA = Symbol('KAFKA');
const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');

async function initializeWithRetry(dataSource: DataSource, logger: Logger): Promise<DataSource> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataSource.initialize();
    } catch (error) {
      if (attempt >= 30) throw error;
      logger.warn({ err: error, attempt }, 'PostgreSQL not reachable yet');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

class PlatformLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(PLATFORM_OPTIONS) private readonly options: PlatformOptions,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(KafkaPublisher) private readonly publisher: KafkaPublisher,
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.relay) this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.publisher.disconnect();
    await this.admin.disconnect();
    await this.dataSource.destroy();
  }
}

/**
 * What every service stands on: config-driven logger, metrics, health, the event store and Kafka.
 * Each outside system is built here once and injected by its role.
 */
/** How a service takes part: which consumer group (if it consumes) and whether it runs a relay. */
export interface ServiceRole {
  consumer?: { groupId: string; fromLatest?: boolean; detached?: boolean };
  relay: boolean;
}

@Global()
@Module({})
export class PlatformModule {
  /** The platform of one service, from its parsed common settings. */
  static forService(serviceName: string, config: CommonSettings, role: ServiceRole): DynamicModule {
    return PlatformModule.forRoot({
      serviceName,
      logLevel: config.LOG_LEVEL,
      databaseUrl: config.DATABASE_URL,
      databasePoolSize: config.DATABASE_POOL_SIZE,
      kafkaBrokers: config.KAFKA_BROKERS,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      relay: role.relay,
      consumer: role.consumer && {
        ...role.consumer,
        concurrency: config.CONSUMER_CONCURRENCY,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      },
    });
  }

  static forRoot(options: PlatformOptions): DynamicModule {
    const logger = createLogger(options.serviceName, options.logLevel);
    const quietPaths = ['/healthz', '/readyz', '/metrics'];
    return {
      module: PlatformModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: { logger, autoLogging: { ignore: (req) => quietPaths.includes(req.url ?? '') } },
        }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: PLATFORM_OPTIONS, useValue: options },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: PINO_LOGGER, useValue: logger },
        { provide: Metrics, useFactory: () => new Metrics(options.serviceName) },
        { provide: HealthRegistry, useFactory: () => new HealthRegistry() },
        {
          provide: DataSource,
          inject: [HealthRegistry],
          useFactory: async (health: HealthRegistry) => {
            const dataSource = createDataSource(
              options.databaseUrl,
              options.serviceName,
              options.databasePoolSize,
            );
            await initializeWithRetry(dataSource, logger);
            health.register('postgres', () => dataSource.query('SELECT 1'));
            return dataSource;
          },
        },
        { provide: EventStore, inject: [DataSource], useFactory: (db: DataSource) => new EventStore(db) },
        {
          provide: ConversationStreams,
          inject: [EventStore],
          useFactory: (store: EventStore) => new ConversationStreams(store),
        },
        {
          provide: TenantRepository,
          inject: [DataSource],
          useFactory: (db: DataSource) => new TenantRepository(db),
        },
        {
          provide: InboxRepository,
          inject: [DataSource],
          useFactory: (db: DataSource) => new InboxRepository(db),
        },
        {
          provide: KAFKA,
          useFactory: () =>
            createKafka(
              {
                brokers: options.kafkaBrokers,
                clientId: options.serviceName,
                topicPrefix: options.topicPrefix,
              },
              logger,
            ),
        },
        {
          provide: KAFKA_ADMIN,
          inject: [KAFKA, HealthRegistry],
          useFactory: async (kafka: Kafka, health: HealthRegistry) => {
            const admin = kafka.admin();
            await admin.connect();
            health.register('kafka', () => admin.describeCluster());
            return admin;
          },
        },
        {
          provide: KafkaPublisher,
          inject: [KAFKA],
          useFactory: async (kafka: Kafka) => {
            const publisher = new KafkaPublisher(kafka, options.topicPrefix);
            await publisher.connect();
            return publisher;
          },
        },
        {
          provide: OutboxRelay,
          inject: [KafkaPublisher, Metrics],
          useFactory: (publisher: KafkaPublisher, metrics: Metrics) =>
            new OutboxRelay(
              new OutboxReader(options.databaseUrl, `${options.serviceName}-relay`),
              publisher,
              logger,
              {
                onPublished: (count) => metrics.outboxPublished.inc(count),
              },
            ),
        },
        {
          provide: KafkaEventServer,
          inject: [KAFKA, KafkaPublisher, Metrics, HealthRegistry],
          useFactory: (kafka: Kafka, publisher: KafkaPublisher, metrics: Metrics, health: HealthRegistry) => {
            const server = new KafkaEventServer({
              kafka,
              publisher,
              logger,
              topicPrefix: options.topicPrefix,
              groupId: options.consumer?.groupId ?? options.serviceName,
              fromLatest: options.consumer?.fromLatest ?? false,
              concurrency: options.consumer?.concurrency ?? 1,
              sessionTimeoutMs: options.consumer?.sessionTimeoutMs,
              detachHandlers: options.consumer?.detached ?? false,
              onHandled: (event, outcome, groupId) => metrics.eventConsumed(groupId, event.type, outcome),
            });
            if (options.consumer) {
              health.register('kafka-consumer', () =>
                server.hasJoined
                  ? Promise.resolve()
                  : Promise.reject(new Error('the consumer has not joined its group yet')),
              );
            }
            return server;
          },
        },
        PlatformLifecycle,
      ],
      exports: [
        PLATFORM_OPTIONS,
        PINO_LOGGER,
        Metrics,
        HealthRegistry,
        DataSource,
        EventStore,
        ConversationStreams,
        TenantRepository,
        InboxRepository,
        KAFKA,
        KafkaPublisher,
        OutboxRelay,
        KafkaEventServer,
      ],
    };
  }
}
