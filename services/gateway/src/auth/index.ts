export * from './api-key.guard';
export * from './tenant-resolver';
