export * from './complete-chat.command';
export * from './complete-chat.handler';
export * from './conversation-directory';
export * from './conversation-listeners';
export * from './turn-reply';
