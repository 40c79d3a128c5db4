export * from './conversation-updates';
export * from './gateway.events.controller';
