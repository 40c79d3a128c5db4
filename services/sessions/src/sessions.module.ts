import { Module, type DynamicModule } from '@nestjs/common';
import { Embedder } from '@libs/embeddings';
import { IntentFastPath } from '@libs/intents';
import {
  ConsumerModule,
  KafkaModule,
  Metrics,
  PINO_LOGGER,
  PlatformModule,
  RelayModule,
  StoreModule,
  type Logger,
} from '@libs/platform';
import {
  AdvanceConversationHandler,
  KNOWLEDGE_WAIT_MS,
  LocalClassifier,
  REPLY_POLICY,
} from './advance-conversation';
import { AnswerCacheMetrics, AnswerCacheRepository } from './answer-cache';
import { SESSIONS_TABLES } from './migrations';
import { TIMER_SETTINGS, TimerRepository, TimerScheduler } from './timers';
import { SessionsEventsController } from './sessions.events.controller';
import type { SessionsConfig } from './sessions.config';

@Module({})
export class SessionsModule {
  static forRoot(config: SessionsConfig): DynamicModule {
    return {
      module: SessionsModule,
      imports: [
        PlatformModule.forService('sessions', config),
        StoreModule.forService({ ownTables: SESSIONS_TABLES }),
        KafkaModule.forService(),
        RelayModule.forService(),
        ConsumerModule.forService({
          groupId: 'sessions',
          maxInFlight: config.SESSIONS_MAX_IN_FLIGHT,
          orderByKey: true,
        }),
      ],
      controllers: [SessionsEventsController],
      providers: [
        {
          provide: REPLY_POLICY,
          useValue: {
            systemPrompt: config.SYSTEM_PROMPT,
            historyLimit: config.HISTORY_LIMIT,
            maxTokens: config.REPLY_MAX_TOKENS,
            contextTokens: config.MODEL_CONTEXT_TOKENS,
          },
        },
        { provide: KNOWLEDGE_WAIT_MS, useValue: config.KNOWLEDGE_WAIT_MS },
        {
          provide: TIMER_SETTINGS,
          useValue: { databaseUrl: config.DATABASE_URL, pollIntervalMs: config.TIMER_POLL_MS },
        },
        TimerRepository,
        TimerScheduler,
        AnswerCacheRepository,
        {
          provide: AnswerCacheMetrics,
          inject: [Metrics],
          useFactory: (metrics: Metrics) => new AnswerCacheMetrics(metrics),
        },
        {
          provide: LocalClassifier,
          inject: [Metrics, PINO_LOGGER],
          useFactory: (metrics: Metrics, logger: Logger) => {
            const fastPath = new IntentFastPath(Embedder.fromSettings(config));
            const settings = { timeoutMs: config.LOCAL_CLASSIFY_TIMEOUT_MS };
            return new LocalClassifier(fastPath, settings, metrics, logger);
          },
        },
        AdvanceConversationHandler,
      ],
    };
  }
}
