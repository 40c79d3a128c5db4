export * from './analytics-query';
export * from './analyst-views';
export * from './conversation-analytics.repository';
export * from './conversation-replay';
export * from './analytics.controller';
