import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { KafkaPublisher, createKafka } from '@libs/messaging';
import { HealthRegistry } from '../health';
import { PINO_LOGGER, type Logger } from '../logger';
import { SERVICE_SETTINGS, type ServiceSettings } from '../platform.module';

export const KAFKA = Symbol('KAFKA');
const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');

class KafkaLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(KafkaPublisher) private readonly publisher: KafkaPublisher,
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect();
    await this.admin.disconnect();
  }
}

/** Kafka for a service: the client, a readiness check, and the publisher (relay and dead letters use it). */
@Global()
@Module({})
export class KafkaModule {
  static forService(): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        {
          provide: KAFKA,
          inject: [SERVICE_SETTINGS, PINO_LOGGER],
          useFactory: ({ serviceName, config }: ServiceSettings, logger: Logger) =>
            createKafka(
              {
                brokers: config.KAFKA_BROKERS,
                clientId: serviceName,
                topicPrefix: config.KAFKA_TOPIC_PREFIX,
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
          inject: [KAFKA, SERVICE_SETTINGS],
          useFactory: async (kafka: Kafka, { config }: ServiceSettings) => {
            const publisher = new KafkaPublisher(kafka, config.KAFKA_TOPIC_PREFIX);
            await publisher.connect();
            return publisher;
          },
        },
        KafkaLifecycle,
      ],
      exports: [KAFKA, KafkaPublisher],
    };
  }
}
