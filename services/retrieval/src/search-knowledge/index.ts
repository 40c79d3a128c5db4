export * from './search-knowledge.query';
export * from './search-knowledge.handler';
export * from './reranker';
export * from './search-weights';
export * from './search.controller';
