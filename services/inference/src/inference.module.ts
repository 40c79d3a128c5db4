import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import {
  ConsumerModule,
  HealthRegistry,
  KafkaModule,
  Metrics,
  PlatformModule,
  RelayModule,
  PINO_LOGGER,
  StoreModule,
  type Logger,
} from '@libs/platform';
import { ContentFilterLists, EventStore } from '@libs/event-store';
import { GENERATION_SETTINGS, GenerateReplyHandler } from './generate-reply';
import { InferenceEventsController } from './inference.events.controller';
import { InferenceMetrics } from './inference.metrics';
import type { InferenceConfig } from './inference.config';
import { LLM_CLIENT, OpenAiCompatibleClient, type LlmClient } from './llm.client';
import { Embedder, type Embeddings } from '@libs/embeddings';
import { IntentFastPath } from '@libs/intents';
import { MODEL_TASK_SETTINGS, RunModelTaskHandler } from './run-model-task';
import { ModelDispatcher } from './dispatch';
import {
  CanarySplitFile,
  modelBackend,
  ModelBackends,
  type CanaryRoute,
  type ResilienceSettings,
} from './backends';

function backendsOf(config: InferenceConfig, logger: Logger): ModelBackends {
  const resilience: ResilienceSettings = {
    breakerFailures: config.LLM_BREAKER_FAILURES,
    breakerHalfOpenMs: config.LLM_BREAKER_HALF_OPEN_MS,
    retries: config.LLM_RETRIES,
    retryBaseMs: config.LLM_RETRY_BASE_MS,
  };
  const maxQueuedPerTenant = config.LLM_MAX_QUEUED_PER_TENANT;
  const primary = modelBackend(
    'primary',
    new OpenAiCompatibleClient({
      baseURL: config.LLM_BASE_URL,
      apiKey: config.LLM_API_KEY,
      model: config.LLM_MODEL,
      temperature: config.LLM_TEMPERATURE,
    }),
    { slots: config.LLM_SLOTS, maxQueuedPerTenant },
    resilience,
  );
  const { LLM_FALLBACK_BASE_URL: baseURL, LLM_FALLBACK_API_KEY: apiKey, LLM_FALLBACK_MODEL: model } = config;
  const fallback =
    baseURL && apiKey && model
      ? modelBackend(
          'fallback',
          new OpenAiCompatibleClient({ baseURL, apiKey, model, temperature: config.LLM_TEMPERATURE }),
          { slots: config.LLM_FALLBACK_SLOTS, maxQueuedPerTenant },
          resilience,
        )
      : null;
  return new ModelBackends(
    primary,
    fallback,
    config.LLM_FALLBACK_TENANTS,
    canaryOf(config, resilience, logger),
  );
}

function canaryOf(
  config: InferenceConfig,
  resilience: ResilienceSettings,
  logger: Logger,
): CanaryRoute | null {
  const {
    LLM_CANARY_BASE_URL: baseURL,
    LLM_CANARY_API_KEY: apiKey,
    LLM_CANARY_MODEL: model,
    LLM_CANARY_SPLIT_FILE: splitFile,
  } = config;
  if (!baseURL || !apiKey || !model || !splitFile) return null;
  return {
    backend: modelBackend(
      'canary',
      new OpenAiCompatibleClient({ baseURL, apiKey, model, temperature: config.LLM_TEMPERATURE }),
      { slots: config.LLM_CANARY_SLOTS, maxQueuedPerTenant: config.LLM_MAX_QUEUED_PER_TENANT },
      resilience,
    ),
    split: new CanarySplitFile(splitFile, config.LLM_CANARY_SPLIT_POLL_MS, logger),
  };
}

class LlmHealth implements OnModuleInit {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LLM_CLIENT) private readonly llm: LlmClient,
    @Inject(Embedder) private readonly embeddings: Embeddings,
  ) {}

  onModuleInit(): void {
    this.health.register('llm', () => this.llm.ping());
    this.health.register('embeddings', () => this.embeddings.ping());
  }
}

@Module({})
export class InferenceModule {
  static forRoot(config: InferenceConfig): DynamicModule {
    return {
      module: InferenceModule,
      imports: [
        PlatformModule.forService('inference', config),
        StoreModule.forService(),
        KafkaModule.forService(),
        RelayModule.forService(),
        // Messages overlap (a reply waits for a model slot, never for another conversation's reply ahead
        // of it in the partition); the dispatcher bounds what reaches the model server.
        ConsumerModule.forService({ groupId: 'inference', maxInFlight: config.INFERENCE_MAX_IN_FLIGHT }),
      ],
      controllers: [InferenceEventsController],
      providers: [
        {
          provide: ModelBackends,
          useFactory: (logger: Logger) => backendsOf(config, logger),
          inject: [PINO_LOGGER],
        },
        // Model tasks use the primary, its client and its slots (short calls; no fallback yet).
        {
          provide: LLM_CLIENT,
          useFactory: (backends: ModelBackends) => backends.primary.client,
          inject: [ModelBackends],
        },
        {
          provide: ModelDispatcher,
          useFactory: (backends: ModelBackends) => backends.primary.dispatcher,
          inject: [ModelBackends],
        },
        {
          provide: GENERATION_SETTINGS,
          useValue: {
            timeoutMs: config.LLM_TIMEOUT_MS,
            firstTokenTimeoutMs: config.LLM_FIRST_TOKEN_TIMEOUT_MS,
            stallTimeoutMs: config.LLM_STALL_TIMEOUT_MS,
            chunkFlushMs: config.CHUNK_FLUSH_MS,
            chunkMaxChars: config.CHUNK_MAX_CHARS,
          },
        },
        {
          provide: Embedder,
          useFactory: () => Embedder.fromSettings(config),
        },
        {
          provide: IntentFastPath,
          inject: [Embedder],
          useFactory: (embeddings: Embedder) => new IntentFastPath(embeddings),
        },
        { provide: MODEL_TASK_SETTINGS, useValue: { timeoutMs: config.MODEL_TASK_TIMEOUT_MS } },
        {
          provide: ContentFilterLists,
          inject: [EventStore],
          useFactory: (store: EventStore) => new ContentFilterLists(store, config.CONTENT_FILTER_REFRESH_MS),
        },
        {
          provide: InferenceMetrics,
          useFactory: (metrics: Metrics, backends: ModelBackends) => {
            const inference = new InferenceMetrics(metrics);
            inference.watch(backends);
            return inference;
          },
          inject: [Metrics, ModelBackends],
        },
        GenerateReplyHandler,
        RunModelTaskHandler,
        LlmHealth,
      ],
    };
  }
}
