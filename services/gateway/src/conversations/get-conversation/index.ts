export * from './get-conversation.query';
export * from './get-conversation.handler';
