export * from './receive-channel-message.command';
export * from './receive-channel-message.handler';
