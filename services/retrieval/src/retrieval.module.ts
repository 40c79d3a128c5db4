import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { TOPICS } from '@contracts';
import { KnowledgeFilesRepository } from '@libs/knowledge';
import {
  ConsumerModule,
  HealthRegistry,
  KafkaModule,
  Metrics,
  PINO_LOGGER,
  PlatformModule,
  RelayModule,
  StoreModule,
  type Logger,
} from '@libs/platform';
import {
  BackendBreakers,
  KeywordIndex,
  QueryEmbeddingCache,
  SEARCH_BACKENDS,
  VectorIndex,
  type BreakerState,
} from '@libs/knowledge-search';
import { Embedder } from '@libs/embeddings';
import { DeleteDocumentHandler } from './delete-document';
import {
  FLUSH_VECTORS_AFTER_INDEXING,
  INGEST_BATCH_SIZE,
  IndexDocumentHandler,
  IndexingCheckpoints,
} from './index-document';
import { RETRIEVAL_TABLES } from './migrations';
import type { RetrievalConfig } from './retrieval.config';
import { RetrievalEventsController } from './retrieval.events.controller';
import { RetrieveKnowledgeHandler } from './retrieve-knowledge';
import {
  FixedSearchWeights,
  KeepFusedOrder,
  Reranker,
  SearchController,
  SearchKnowledgeHandler,
  SearchWeights,
} from './search-knowledge';

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };

/** Readiness of the search backends, the indexes' existence, and the breakers' state. */
class SearchBackendsLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(KeywordIndex) private readonly keywords: KeywordIndex,
    @Inject(VectorIndex) private readonly vectors: VectorIndex,
    @Inject(Embedder) private readonly embedder: Embedder,
    @Inject(BackendBreakers) private readonly breakers: BackendBreakers,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register('elasticsearch', () => this.keywords.ping());
    this.health.register('milvus', () => this.vectors.ping());
    this.health.register('embeddings', () => this.embedder.embed(['health'], 'query'));
    // Open breakers do not make the service unready: it still answers, degraded. They are shown.
    this.health.registerDetail('breakers', () => this.breakers.states());
    // A backend down at boot must not stop the service (queries degrade); indexing creates them later.
    await Promise.all([
      this.keywords
        .ensureIndex()
        .catch((err: unknown) => this.logger.warn({ err }, 'knowledge index not ready')),
      this.vectors
        .ensureCollection()
        .catch((err: unknown) => this.logger.warn({ err }, 'knowledge collection not ready')),
    ]);
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
      imports: [
        PlatformModule.forService('retrieval', config),
        StoreModule.forService({ ownTables: RETRIEVAL_TABLES }),
        KafkaModule.forService(),
        RelayModule.forService(),
        // Indexing a large document takes minutes: it holds back only its own document (one key), and
        // documents take at most INDEXING_MAX_IN_FLIGHT of the slots, so customer messages always find one.
        ConsumerModule.forService({
          groupId: 'retrieval',
          maxInFlight: config.RETRIEVAL_MAX_IN_FLIGHT,
          orderByKey: true,
          maxInFlightPerTopic: { [TOPICS.knowledgeEvents]: config.INDEXING_MAX_IN_FLIGHT },
        }),
      ],
      controllers: [RetrievalEventsController, SearchController],
      providers: [
        {
          provide: KeywordIndex,
          useFactory: () => new KeywordIndex(config.ELASTICSEARCH_URL, config.KNOWLEDGE_INDEX),
        },
        {
          provide: VectorIndex,
          useFactory: () =>
            new VectorIndex(config.MILVUS_ADDRESS, config.KNOWLEDGE_INDEX, config.EMBEDDINGS_DIMENSIONS),
        },
        {
          provide: Embedder,
          useFactory: () => Embedder.fromSettings(config, config.EMBEDDINGS_DIMENSIONS),
        },
        {
          provide: BackendBreakers,
          inject: [Metrics, PINO_LOGGER],
          useFactory: (metrics: Metrics, logger: Logger) => {
            const gauge = new Gauge({
              name: 'convo_retrieval_breaker_state',
              help: 'Circuit breaker of each search backend: 0 closed, 1 half-open, 2 open, 3 isolated',
              labelNames: ['backend'] as const,
              registers: [metrics.registry],
            });
            for (const backend of SEARCH_BACKENDS) gauge.set({ backend }, 0);
            return new BackendBreakers(
              {
                timeoutMs: config.BREAKER_TIMEOUT_MS,
                failuresToOpen: config.BREAKER_FAILURES_TO_OPEN,
                openForMs: config.BREAKER_OPEN_MS,
              },
              (backend, state) => {
                gauge.set({ backend }, BREAKER_STATE_VALUE[state]);
                logger.warn({ backend, state }, 'search backend breaker changed state');
              },
            );
          },
        },
        {
          provide: SearchWeights,
          useFactory: () =>
            new FixedSearchWeights({
              keyword: config.FUSION_KEYWORD_WEIGHT,
              vector: config.FUSION_VECTOR_WEIGHT,
            }),
        },
        { provide: Reranker, useClass: KeepFusedOrder },
        {
          provide: QueryEmbeddingCache,
          useFactory: () => new QueryEmbeddingCache(config.QUERY_EMBEDDING_CACHE_SIZE),
        },
        {
          provide: KnowledgeFilesRepository,
          inject: [DataSource],
          useFactory: (db: DataSource) => new KnowledgeFilesRepository(db),
        },
        { provide: INGEST_BATCH_SIZE, useValue: config.INGEST_BATCH_SIZE },
        { provide: FLUSH_VECTORS_AFTER_INDEXING, useValue: config.MILVUS_FLUSH_AFTER_INDEXING },
        IndexingCheckpoints,
        SearchKnowledgeHandler,
        RetrieveKnowledgeHandler,
        IndexDocumentHandler,
        DeleteDocumentHandler,
        SearchBackendsLifecycle,
      ],
    };
  }
}
