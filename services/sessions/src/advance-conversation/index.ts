export * from './advance-conversation.command';
export * from './advance-conversation.handler';
export * from './local-classifier';
