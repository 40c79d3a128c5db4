import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { KnowledgeDirectoryRepository, KnowledgeFilesRepository } from '@libs/knowledge';
import {
  ConsumerModule,
  KafkaModule,
  PlatformModule,
  ProjectionModule,
  RelayModule,
  StoreModule,
} from '@libs/platform';
import { API_KEY_CACHE_TTL_MS, AccessLog, ApiKeyGuard, PrincipalResolver } from './auth';
import {
  AgentMessagesHandler,
  CHAT_COMPLETION_TIMEOUT_MS,
  CompleteChatHandler,
  ConversationDirectory,
  ConversationListeners,
  FindByReferenceHandler,
  GetConversationStateHandler,
  REFERENCE_GENERATOR,
  randomReferences,
  CloseConversationHandler,
  ConversationsController,
  GetConversationHandler,
  ID_GENERATOR,
  ListConversationEventsHandler,
  SendMessageHandler,
  StartConversationHandler,
  randomIds,
} from './conversations';
import { CHANNEL_CONTROLLERS, ChannelDeliveriesProjection, channelProviders } from './channels';
import { CONTENT_FILTER_CONTROLLERS, contentFilterProviders } from './content-filter';
import type { GatewayConfig } from './gateway.config';
import {
  DeleteDocumentHandler,
  GetDocumentHandler,
  KnowledgeController,
  ListDocumentsHandler,
  RetrievalSearchClient,
  SearchKnowledgeHandler,
  UploadDocumentHandler,
} from './knowledge';
import {
  DEFAULT_RATE_LIMITS,
  RATE_LIMITS_CACHE_TTL_MS,
  RateLimitCounters,
  RateLimitPolicy,
  RequestRateLimit,
  type EffectiveLimits,
} from './limits';
import { GATEWAY_TABLES } from './migrations';
import { OpenAiController } from './openai';
import {
  GetSettingsHandler,
  ReplaceIntentsHandler,
  ReplaceLimitsHandler,
  SettingsController,
} from './settings';
import { ConversationUpdates, GatewayEventsController } from './updates';

const USE_CASES = [
  StartConversationHandler,
  SendMessageHandler,
  CloseConversationHandler,
  GetConversationHandler,
  ListConversationEventsHandler,
  GetConversationStateHandler,
  FindByReferenceHandler,
  AgentMessagesHandler,
  UploadDocumentHandler,
  DeleteDocumentHandler,
  GetDocumentHandler,
  ListDocumentsHandler,
  SearchKnowledgeHandler,
  GetSettingsHandler,
  ReplaceIntentsHandler,
  ReplaceLimitsHandler,
  CompleteChatHandler,
];

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forService('gateway', config),
        StoreModule.forService({ ownTables: GATEWAY_TABLES }),
        KafkaModule.forService(),
        RelayModule.forService(),
        // Every replica sees every event (its own group), from now on: it serves live sockets only.
        ConsumerModule.forService({ groupId: `gateway-${config.GATEWAY_INSTANCE_ID}`, fromLatest: true }),
        // Replies owed to IM chats, queued from the store's read-all (once, whatever the replicas).
        ProjectionModule.forService([ChannelDeliveriesProjection]),
      ],
      controllers: [
        ConversationsController,
        KnowledgeController,
        SettingsController,
        OpenAiController,
        GatewayEventsController,
        ...CONTENT_FILTER_CONTROLLERS,
        ...CHANNEL_CONTROLLERS,
      ],
      providers: [
        { provide: API_KEY_CACHE_TTL_MS, useValue: config.API_KEY_CACHE_TTL_MS },
        { provide: ID_GENERATOR, useValue: randomIds },
        { provide: REFERENCE_GENERATOR, useValue: randomReferences },
        PrincipalResolver,
        AccessLog,
        {
          provide: KnowledgeFilesRepository,
          inject: [DataSource],
          useFactory: (db: DataSource) => new KnowledgeFilesRepository(db),
        },
        {
          provide: KnowledgeDirectoryRepository,
          inject: [DataSource],
          useFactory: (db: DataSource) => new KnowledgeDirectoryRepository(db),
        },
        { provide: RetrievalSearchClient, useValue: new RetrievalSearchClient(config.RETRIEVAL_URL) },
        ApiKeyGuard,
        {
          provide: DEFAULT_RATE_LIMITS,
          useValue: {
            tenant: {
              requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE,
              tokensPerMinute: config.RATE_LIMIT_TOKENS_PER_MINUTE,
            },
            perKey: {
              requestsPerMinute: config.RATE_LIMIT_KEY_REQUESTS_PER_MINUTE,
              tokensPerMinute: config.RATE_LIMIT_KEY_TOKENS_PER_MINUTE,
            },
          } satisfies EffectiveLimits,
        },
        { provide: RATE_LIMITS_CACHE_TTL_MS, useValue: config.RATE_LIMITS_CACHE_TTL_MS },
        {
          provide: RateLimitCounters,
          inject: [DataSource],
          useFactory: (db: DataSource) => new RateLimitCounters(db),
        },
        RateLimitPolicy,
        { provide: APP_INTERCEPTOR, useClass: RequestRateLimit },
        ConversationUpdates,
        ConversationListeners,
        ConversationDirectory,
        { provide: CHAT_COMPLETION_TIMEOUT_MS, useValue: config.CHAT_COMPLETION_TIMEOUT_MS },
        ...USE_CASES,
        ...contentFilterProviders(config.CONTENT_FILTER_REFRESH_MS),
        ...channelProviders(config.CHANNEL_CONNECTORS, config.CHANNEL_MAX_AGE_SECONDS * 1000),
      ],
    };
  }
}
