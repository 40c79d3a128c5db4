export * from './list-conversation-events.query';
export * from './list-conversation-events.handler';
