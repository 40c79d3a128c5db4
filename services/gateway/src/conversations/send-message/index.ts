export * from './send-message.command';
export * from './send-message.handler';
