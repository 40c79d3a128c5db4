export * from './answer-cache.repository';
