export * from './tenant-settings';
