import { ConfigError, parseConfig } from '@libs/config';
import { RetrievalConfigSchema } from './retrieval.config';

const REQUIRED = {
  DATABASE_URL: 'postgres://engine:secret@db:5432/engine',
  KAFKA_BROKERS: 'kafka:9092',
  DATA_KEY_ENCRYPTION_KEY: '00'.repeat(32),
  ELASTICSEARCH_URL: 'http://elasticsearch:9200',
  MILVUS_ADDRESS: 'milvus:19530',
  EMBEDDINGS_BASE_URL: 'http://embeddings:8000/v1',
  EMBEDDINGS_MODEL: 'multilingual-e5-small',
  EMBEDDINGS_DIMENSIONS: '384',
};

describe('retrieval configuration: how many events it handles at once', () => {
  it('defaults to 32 at once, documents 4 of them', () => {
    const config = parseConfig(RetrievalConfigSchema, REQUIRED);
    expect(config.RETRIEVAL_MAX_IN_FLIGHT).toBe(32);
    expect(config.INDEXING_MAX_IN_FLIGHT).toBe(4);
  });

  it.each([
    ['8', '8'],
    ['12', '8'],
  ])('refuses indexing %s of %s slots: searches must always find one', (indexing, all) => {
    let error: unknown;
    try {
      parseConfig(RetrievalConfigSchema, {
        ...REQUIRED,
        INDEXING_MAX_IN_FLIGHT: indexing,
        RETRIEVAL_MAX_IN_FLIGHT: all,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'INDEXING_MAX_IN_FLIGHT: must be below RETRIEVAL_MAX_IN_FLIGHT, or indexing could take every slot from the searches',
    ]);
  });
});
