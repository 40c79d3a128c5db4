export * from './start-conversation.command';
export * from './start-conversation.handler';
