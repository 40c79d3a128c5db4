import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  ConversationStreams,
  EventStore,
  InboxRepository,
  PostgresEventStore,
  TenantRepository,
  TenantSettingsStreams,
  createDataSource,
  DataKeyRepository,
  migrateOwnTables,
  parseMasterKey,
  PersonalDataCipher,
  type MigrationSet,
} from '@libs/event-store';
import { HealthRegistry } from '../health';
import { PINO_LOGGER, type Logger } from '../logger';
import { SERVICE_SETTINGS, type ServiceSettings } from '../platform.module';

class StoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    await this.dataSource.destroy();
  }
}

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

/**
 * PostgreSQL for a service: its pool, the event store (sealing personal data with the conversations'
 * data keys) with the stream runners, tenants and the inbox.
 * `ownTables` are the service's own migrations (projections, schedules), applied at boot.
 */
@Global()
@Module({})
export class StoreModule {
  static forService(options: { ownTables?: MigrationSet } = {}): DynamicModule {
    return {
      module: StoreModule,
      providers: [
        {
          provide: DataSource,
          inject: [SERVICE_SETTINGS, HealthRegistry, PINO_LOGGER],
          useFactory: async (
            { serviceName, config }: ServiceSettings,
            health: HealthRegistry,
            logger: Logger,
          ) => {
            const dataSource = createDataSource(config.DATABASE_URL, serviceName, config.DATABASE_POOL_SIZE);
            await initializeWithRetry(dataSource, logger);
            if (options.ownTables) {
              const applied = await migrateOwnTables(config.DATABASE_URL, options.ownTables);
              if (applied.length > 0) logger.info({ applied }, 'own tables migrated');
            }
            health.register('postgres', () => dataSource.query('SELECT 1'));
            return dataSource;
          },
        },
        {
          provide: PersonalDataCipher,
          inject: [SERVICE_SETTINGS, DataSource],
          useFactory: ({ config }: ServiceSettings, db: DataSource) =>
            new PersonalDataCipher(new DataKeyRepository(db, parseMasterKey(config.DATA_KEY_ENCRYPTION_KEY))),
        },
        {
          provide: EventStore,
          inject: [DataSource, PersonalDataCipher],
          useFactory: (db: DataSource, cipher: PersonalDataCipher) =>
            new PostgresEventStore(db, undefined, cipher),
        },
        {
          provide: ConversationStreams,
          inject: [EventStore],
          useFactory: (store: EventStore) => new ConversationStreams(store),
        },
        {
          provide: TenantSettingsStreams,
          inject: [EventStore],
          useFactory: (store: EventStore) => new TenantSettingsStreams(store),
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
        StoreLifecycle,
      ],
      exports: [
        DataSource,
        PersonalDataCipher,
        EventStore,
        ConversationStreams,
        TenantSettingsStreams,
        TenantRepository,
        InboxRepository,
      ],
    };
  }
}
