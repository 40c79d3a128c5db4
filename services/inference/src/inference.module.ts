import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import {
  ConsumerModule,
  HealthRegistry,
  KafkaModule,
  PlatformModule,
  RelayModule,
  StoreModule,
} from '@libs/platform';
import { GENERATION_SETTINGS, GenerateReplyHandler } from './generate-reply';
import { InferenceEventsController } from './inference.events.controller';
import type { InferenceConfig } from './inference.config';
import { LLM_CLIENT, OpenAiCompatibleClient, type LlmClient } from './llm.client';
import { EMBEDDINGS_CLIENT, OpenAiCompatibleEmbeddings, type EmbeddingsClient } from './embeddings.client';
import { MODEL_TASK_SETTINGS, RunModelTaskHandler } from './run-model-task';
import { ModelDispatcher } from './dispatch';

class LlmHealth implements OnModuleInit {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LLM_CLIENT) private readonly llm: LlmClient,
    @Inject(EMBEDDINGS_CLIENT) private readonly embeddings: EmbeddingsClient,
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
          provide: LLM_CLIENT,
          useFactory: () =>
            new OpenAiCompatibleClient({
              baseURL: config.LLM_BASE_URL,
              apiKey: config.LLM_API_KEY,
              model: config.LLM_MODEL,
              temperature: config.LLM_TEMPERATURE,
            }),
        },
        {
          provide: ModelDispatcher,
          useValue: new ModelDispatcher({
            slots: config.LLM_SLOTS,
            maxQueuedPerTenant: config.LLM_MAX_QUEUED_PER_TENANT,
          }),
        },
        {
          provide: GENERATION_SETTINGS,
          useValue: {
            timeoutMs: config.LLM_TIMEOUT_MS,
            firstTokenTimeoutMs: config.LLM_FIRST_TOKEN_TIMEOUT_MS,
            chunkFlushMs: config.CHUNK_FLUSH_MS,
            chunkMaxChars: config.CHUNK_MAX_CHARS,
          },
        },
        {
          provide: EMBEDDINGS_CLIENT,
          useFactory: () =>
            new OpenAiCompatibleEmbeddings({
              baseURL: config.EMBEDDINGS_BASE_URL,
              apiKey: config.EMBEDDINGS_API_KEY,
              model: config.EMBEDDINGS_MODEL,
            }),
        },
        { provide: MODEL_TASK_SETTINGS, useValue: { timeoutMs: config.MODEL_TASK_TIMEOUT_MS } },
        GenerateReplyHandler,
        RunModelTaskHandler,
        LlmHealth,
      ],
    };
  }
}
