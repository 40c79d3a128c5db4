export * from './answer-cache.repository';
export * from './answer-cache.metrics';
