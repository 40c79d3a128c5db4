import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@libs/platform';
import { AuditEventsController } from './audit.events.controller';
import type { AuditConfig } from './audit.config';
import { RecordEventHandler } from './record-event';

@Module({})
export class AuditModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditModule,
      imports: [
        PlatformModule.forRoot({
          serviceName: 'audit',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          databasePoolSize: config.DATABASE_POOL_SIZE,
          kafkaBrokers: config.KAFKA_BROKERS,
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          consumer: {
            groupId: 'audit',
            concurrency: config.CONSUMER_CONCURRENCY,
            sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
          },
          relay: false,
        }),
      ],
      controllers: [AuditEventsController],
      providers: [RecordEventHandler],
    };
  }
}
