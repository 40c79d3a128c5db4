export * from './replace-intents.command';
export * from './replace-intents.handler';
