export * from './get-settings.handler';
