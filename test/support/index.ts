export * from './test-database';
export * from './service-processes';
export * from './json-schemas';
export * from './test-kafka';
export * from './wait';
export * from './conversation-fixtures';
export * from './tcp-proxy';
export * from './schemathesis';
