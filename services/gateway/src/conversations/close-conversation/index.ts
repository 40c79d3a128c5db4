export * from './close-conversation.command';
export * from './close-conversation.handler';
