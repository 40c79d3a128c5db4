export * from './indexed-chunk';
export * from './keyword-index';
export * from './vector-index';
export * from './embedder';
export * from './backend-breakers';
