import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@libs/platform';
import { API_KEY_CACHE_TTL_MS, ApiKeyGuard, TenantResolver } from './auth';
import {
  CloseConversationHandler,
  ConversationsController,
  GetConversationHandler,
  ID_GENERATOR,
  ListConversationEventsHandler,
  SendMessageHandler,
  StartConversationHandler,
  randomIds,
} from './conversations';
import type { GatewayConfig } from './gateway.config';
import { ConversationUpdates, GatewayEventsController } from './updates';

const USE_CASES = [
  StartConversationHandler,
  SendMessageHandler,
  CloseConversationHandler,
  GetConversationHandler,
  ListConversationEventsHandler,
];

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forRoot({
          serviceName: 'gateway',
          logLevel: config.LOG_LEVEL,
          databaseUrl: config.DATABASE_URL,
          databasePoolSize: config.DATABASE_POOL_SIZE,
          kafkaBrokers: config.KAFKA_BROKERS,
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          // Every replica sees every event (its own group), from now on: it serves live sockets only.
          consumer: {
            groupId: `gateway-${config.GATEWAY_INSTANCE_ID}`,
            fromLatest: true,
            concurrency: config.CONSUMER_CONCURRENCY,
            sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
          },
          relay: true,
        }),
      ],
      controllers: [ConversationsController, GatewayEventsController],
      providers: [
        { provide: API_KEY_CACHE_TTL_MS, useValue: config.API_KEY_CACHE_TTL_MS },
        { provide: ID_GENERATOR, useValue: randomIds },
        TenantResolver,
        ApiKeyGuard,
        ConversationUpdates,
        ...USE_CASES,
      ],
    };
  }
}
