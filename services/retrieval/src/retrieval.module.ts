import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HealthRegistry, PlatformModule } from '@libs/platform';
import type { RetrievalConfig } from './retrieval.config';
import { Embedder, KeywordIndex, VectorIndex } from './search-backends';

/** Readiness of the search backends. Knowledge ingestion and hybrid search arrive in their own issue. */
class SearchBackendsHealth implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(KeywordIndex) private readonly keywords: KeywordIndex,
    @Inject(VectorIndex) private readonly vectors: VectorIndex,
    @Inject(Embedder) private readonly embedder: Embedder,
  ) {}

  onModuleInit(): void {
    this.health.register('elasticsearch', () => this.keywords.ping());
    this.health.register('milvus', () => this.vectors.ping());
    this.health.register('embeddings', () => this.embedder.embed(['health']));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.keywords.close(), this.vectors.close()]);
  }
}

@Module({})
export class RetrievalModule {
  static forRoot(config: RetrievalConfig): DynamicModule {
    return {
      module: RetrievalModule,
      // No event handlers yet, so no Kafka consumer and no store: only its search backends.
      imports: [PlatformModule.forService('retrieval', config)],
      providers: [
        { provide: KeywordIndex, useFactory: () => new KeywordIndex(config.ELASTICSEARCH_URL) },
        { provide: VectorIndex, useFactory: () => new VectorIndex(config.MILVUS_ADDRESS) },
        {
          provide: Embedder,
          useFactory: () =>
            new Embedder(
              config.EMBEDDINGS_BASE_URL,
              config.EMBEDDINGS_API_KEY,
              config.EMBEDDINGS_MODEL,
              config.EMBEDDINGS_DIMENSIONS,
            ),
        },
        SearchBackendsHealth,
      ],
    };
  }
}
