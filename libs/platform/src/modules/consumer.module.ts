import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { PersonalDataCipher } from '@libs/event-store';
import { KafkaEventServer, KafkaPublisher } from '@libs/messaging';
import { HealthRegistry } from '../health';
import { PINO_LOGGER, type Logger } from '../logger';
import { Metrics } from '../metrics';
import { SERVICE_SETTINGS, type ServiceSettings } from '../platform.module';
import { KAFKA } from './kafka.module';

export interface ConsumerRole {
  /** Consumer group, before the prefix. One group per service: each service sees every event once. */
  groupId: string;
  /** Start from the newest offset when the group is new (the gateway's live fan-out). */
  fromLatest?: boolean;
  /** Handle up to this many messages at once, each partition's offset committed up to its first unfinished one. */
  maxInFlight?: number;
  /** With maxInFlight: lower limits for the messages of some topics (slow handlers), by topic name. */
  maxInFlightPerTopic?: Readonly<Record<string, number>>;
  /** With maxInFlight: one conversation's messages one after another, in order (see KafkaEventServer). */
  orderByKey?: boolean;
}

/**
 * The Kafka consumer of a service with `@EventPattern` handlers: it subscribes to the topics of the
 * event types those handlers name, and no others. Needs KafkaModule. runService connects it.
 */
@Global()
@Module({})
export class ConsumerModule {
  static forService(role: ConsumerRole): DynamicModule {
    return {
      module: ConsumerModule,
      providers: [
        {
          provide: KafkaEventServer,
          inject: [
            SERVICE_SETTINGS,
            KAFKA,
            KafkaPublisher,
            Metrics,
            HealthRegistry,
            PINO_LOGGER,
            { token: PersonalDataCipher, optional: true },
          ],
          useFactory: (
            { config }: ServiceSettings,
            kafka: Kafka,
            publisher: KafkaPublisher,
            metrics: Metrics,
            health: HealthRegistry,
            logger: Logger,
            cipher: PersonalDataCipher | undefined,
          ) => {
            const server = new KafkaEventServer({
              kafka,
              publisher,
              logger,
              topicPrefix: config.KAFKA_TOPIC_PREFIX,
              groupId: role.groupId,
              fromLatest: role.fromLatest ?? false,
              concurrency: config.CONSUMER_CONCURRENCY,
              sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
              ...(role.maxInFlight !== undefined && { maxInFlight: role.maxInFlight }),
              ...(role.maxInFlightPerTopic !== undefined && {
                maxInFlightPerTopic: role.maxInFlightPerTopic,
              }),
              ...(role.orderByKey !== undefined && { orderByKey: role.orderByKey }),
              onHandled: (event, outcome, groupId, timing) => {
                metrics.eventConsumed(groupId, event.type, outcome, timing);
                // Checked first: this runs for every consumed event, and the fields cost an object each.
                if (outcome !== 'ignored' && logger.isLevelEnabled('debug'))
                  logger.debug({ type: event.type, eventId: event.eventId, ...timing }, 'event consumed');
              },
              // Handlers see customer text opened (or [erased]); the topic only ever carries it sealed.
              ...(cipher && { open: async (event) => (await cipher.open([event]))[0]! }),
            });
            health.register('kafka-consumer', () =>
              server.hasJoined
                ? Promise.resolve()
                : Promise.reject(new Error('the consumer has not joined its group yet')),
            );
            return server;
          },
        },
      ],
      exports: [KafkaEventServer],
    };
  }
}
