export * from './test-database';
export * from './test-kafka';
export * from './wait';
export * from './conversation-fixtures';
