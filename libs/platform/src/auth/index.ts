export * from './principal-resolver';
export * from './access-log';
export * from './api-key.guard';
