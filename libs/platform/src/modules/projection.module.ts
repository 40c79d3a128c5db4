import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type Type,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { CheckpointedSubscription, EventStore, type Projection } from '@libs/event-store';
import { HealthRegistry } from '../health';
import { PINO_LOGGER, type Logger } from '../logger';
import { Metrics } from '../metrics';

export const PROJECTION_SUBSCRIPTIONS = Symbol('PROJECTION_SUBSCRIPTIONS');

class ProjectionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(PROJECTION_SUBSCRIPTIONS) private readonly subscriptions: CheckpointedSubscription[]) {}

  onApplicationBootstrap(): void {
    for (const subscription of this.subscriptions) subscription.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.map((subscription) => subscription.stop()));
  }
}

/**
 * Runs a service's projections on the store's read-all, each from its own checkpoint (no Kafka
 * involved: the store is the source, in its gap-safe global order). Needs StoreModule.
 */
@Module({})
export class ProjectionModule {
  static forService(projections: Type<Projection>[]): DynamicModule {
    return {
      module: ProjectionModule,
      providers: [
        ...projections,
        {
          provide: PROJECTION_SUBSCRIPTIONS,
          inject: [DataSource, EventStore, PINO_LOGGER, HealthRegistry, Metrics, ...projections],
          useFactory: (
            db: DataSource,
            store: EventStore,
            logger: Logger,
            health: HealthRegistry,
            metrics: Metrics,
            ...instances: Projection[]
          ) => {
            const projected = new Counter({
              name: 'convo_projection_events_total',
              help: 'Events applied by each projection (read-all with checkpoints)',
              labelNames: ['projection'] as const,
              registers: [metrics.registry],
            });
            return instances.map((projection) => {
              const subscription = new CheckpointedSubscription(db, store, projection, logger, {
                onBatch: (count) => projected.inc({ projection: projection.name }, count),
              });
              health.register(`projection:${projection.name}`, () =>
                subscription.isCaughtUp
                  ? Promise.resolve()
                  : Promise.reject(new Error('still catching up with the store')),
              );
              return subscription;
            });
          },
        },
        ProjectionLifecycle,
      ],
      exports: [PROJECTION_SUBSCRIPTIONS, ...projections],
    };
  }
}
