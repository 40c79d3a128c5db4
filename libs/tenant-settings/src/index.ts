export * from './tenant-settings';
export * from './default-settings';
