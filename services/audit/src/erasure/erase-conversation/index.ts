export * from './erase-conversation.command';
export * from './erase-conversation.handler';
export * from './erasure.decider';
