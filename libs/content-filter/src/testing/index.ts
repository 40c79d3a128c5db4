export * from './seed-word-list';
export * from './synthetic-word-list';
export * from './customer-service-sentences';
