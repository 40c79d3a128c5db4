import { z } from 'zod';
import { CommonConfig, ConfigError, parseConfig } from './config';

const Schema = z.object(CommonConfig);
const REQUIRED = {
  DATABASE_URL: 'postgres://engine:secret@db:5432/engine',
  KAFKA_BROKERS: 'kafka:9092',
  DATA_KEY_ENCRYPTION_KEY: '00'.repeat(32),
};

function configError(env: NodeJS.ProcessEnv, schema: z.ZodType = Schema): ConfigError {
  try {
    parseConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  describe('given missing or bad keys', () => {
    it('when every required key is missing, then one ConfigError lists all of them', () => {
      const error = configError({});

      expect(error.name).toBe('ConfigError');
      expect(error.problems).toHaveLength(3);
      expect(error.problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^DATABASE_URL: /),
          expect.stringMatching(/^KAFKA_BROKERS: /),
          expect.stringMatching(/^DATA_KEY_ENCRYPTION_KEY: /),
        ]),
      );
      expect(error.message).toMatch(/^invalid configuration:\n {2}- /);
      expect(error.message).toContain('DATABASE_URL');
      expect(error.message).toContain('KAFKA_BROKERS');
    });

    it('lists missing and malformed keys together, not just the first', () => {
      const error = configError({ DATABASE_POOL_SIZE: 'lots', LOG_LEVEL: 'loud', NODE_ENV: 'staging' });

      expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
        'DATABASE_POOL_SIZE',
        'DATABASE_URL',
        'DATA_KEY_ENCRYPTION_KEY',
        'KAFKA_BROKERS',
        'LOG_LEVEL',
        'NODE_ENV',
      ]);
    });

    it('also lists the keys a service adds on top of the common ones', () => {
      const ServiceSchema = z.object({
        ...CommonConfig,
        LLM_BASE_URL: z.url(),
        LLM_MODEL: z.string().min(1),
      });

      const error = configError({ ...REQUIRED, LLM_MODEL: '' }, ServiceSchema);

      expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
        'LLM_BASE_URL',
        'LLM_MODEL',
      ]);
    });

    it.each([
      ['a MySQL url', 'mysql://u:p@db:3306/engine'],
      ['an http url', 'http://db:5432/engine'],
      ['not a url', 'db:5432'],
    ])('rejects DATABASE_URL that is %s', (_label, url) => {
      expect(configError({ ...REQUIRED, DATABASE_URL: url }).problems).toEqual([
        expect.stringMatching(/^DATABASE_URL: /),
      ]);
    });

    it.each([['0'], ['101'], ['2.5'], ['ten'], ['']])('rejects DATABASE_POOL_SIZE=%j', (value) => {
      expect(configError({ ...REQUIRED, DATABASE_POOL_SIZE: value }).problems).toEqual([
        expect.stringMatching(/^DATABASE_POOL_SIZE: /),
      ]);
    });

    it.each([['0'], ['65']])('rejects CONSUMER_CONCURRENCY=%j', (value) => {
      expect(configError({ ...REQUIRED, CONSUMER_CONCURRENCY: value }).problems).toEqual([
        expect.stringMatching(/^CONSUMER_CONCURRENCY: /),
      ]);
    });

    it('rejects a KAFKA_TOPIC_PREFIX with characters Kafka does not allow in topic names', () => {
      expect(configError({ ...REQUIRED, KAFKA_TOPIC_PREFIX: 'prod/' }).problems).toEqual([
        expect.stringMatching(/^KAFKA_TOPIC_PREFIX: /),
      ]);
    });
  });

  describe('given the required keys only', () => {
    it('fills in the defaults', () => {
      expect(parseConfig(Schema, REQUIRED)).toMatchObject({
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        DATABASE_URL: REQUIRED.DATABASE_URL,
        DATABASE_POOL_SIZE: 10,
        KAFKA_BROKERS: ['kafka:9092'],
        KAFKA_TOPIC_PREFIX: '',
        CONSUMER_CONCURRENCY: 12,
        HTTP_HOST: '127.0.0.1',
      });
    });

    it('ignores unrelated environment variables', () => {
      const config = parseConfig(Schema, { ...REQUIRED, PATH: '/usr/bin', HOME: '/root' });

      expect(config).not.toHaveProperty('PATH');
    });
  });

  describe('coercion', () => {
    it('turns numeric strings into numbers', () => {
      const config = parseConfig(Schema, {
        ...REQUIRED,
        DATABASE_POOL_SIZE: '25',
        CONSUMER_CONCURRENCY: '3',
      });

      expect(config.DATABASE_POOL_SIZE).toBe(25);
      expect(config.CONSUMER_CONCURRENCY).toBe(3);
    });

    it('keeps explicit values over defaults', () => {
      const config = parseConfig(Schema, {
        ...REQUIRED,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        KAFKA_TOPIC_PREFIX: 'staging.',
        HTTP_HOST: '0.0.0.0',
        DATABASE_URL: 'postgresql://db/engine',
      });

      expect(config).toMatchObject({
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        KAFKA_TOPIC_PREFIX: 'staging.',
        HTTP_HOST: '0.0.0.0',
        DATABASE_URL: 'postgresql://db/engine',
      });
    });
  });

  describe('KAFKA_BROKERS', () => {
    it.each([
      ['kafka:9092', ['kafka:9092']],
      ['k1:9092,k2:9092,k3:9092', ['k1:9092', 'k2:9092', 'k3:9092']],
      [' k1:9092 , k2:9092 ', ['k1:9092', 'k2:9092']],
      ['k1:9092,,k2:9092,', ['k1:9092', 'k2:9092']],
    ])('splits %j on commas, trimming and dropping empty entries', (value, brokers) => {
      expect(parseConfig(Schema, { ...REQUIRED, KAFKA_BROKERS: value }).KAFKA_BROKERS).toEqual(brokers);
    });

    it('rejects an empty value', () => {
      expect(configError({ ...REQUIRED, KAFKA_BROKERS: '' }).problems).toEqual([
        expect.stringMatching(/^KAFKA_BROKERS: /),
      ]);
    });

    // A value that splits to no brokers must stop the service with the reason, not boot it with none.
    it.each([[','], [' , '], [' ']])('rejects %j, which names no broker at all', (value) => {
      expect(configError({ ...REQUIRED, KAFKA_BROKERS: value }).problems).toEqual([
        expect.stringMatching(/^KAFKA_BROKERS: /),
      ]);
    });
  });
});
