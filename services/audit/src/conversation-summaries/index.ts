export * from './conversation-summary';
export * from './conversation-summary.projection';
