export * from './search-knowledge.handler';
export * from './search-knowledge.query';
