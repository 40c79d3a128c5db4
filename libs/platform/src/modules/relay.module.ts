import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { OutboxReader } from '@libs/event-store';
import { KafkaPublisher, OutboxRelay } from '@libs/messaging';
import { PINO_LOGGER, type Logger } from '../logger';
import { Metrics } from '../metrics';
import { SERVICE_SETTINGS, type ServiceSettings } from '../platform.module';

class RelayLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(OutboxRelay) private readonly relay: OutboxRelay) {}

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

/**
 * The outbox relay, for services that append: one of them holds the leader lock and publishes what
 * the store appended, in order; another takes over when it dies. Needs StoreModule and KafkaModule.
 */
@Module({})
export class RelayModule {
  static forService(): DynamicModule {
    return {
      module: RelayModule,
      providers: [
        {
          provide: OutboxRelay,
          inject: [SERVICE_SETTINGS, KafkaPublisher, Metrics, PINO_LOGGER],
          useFactory: (
            { serviceName, config }: ServiceSettings,
            publisher: KafkaPublisher,
            metrics: Metrics,
            logger: Logger,
          ) =>
            new OutboxRelay(
              new OutboxReader(config.DATABASE_URL, `${serviceName}-relay`),
              publisher,
              logger,
              {
                onPublished: (count) => metrics.outboxPublished.inc(count),
              },
            ),
        },
        RelayLifecycle,
      ],
      exports: [OutboxRelay],
    };
  }
}
