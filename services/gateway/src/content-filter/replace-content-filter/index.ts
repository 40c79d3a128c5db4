export * from './replace-content-filter.command';
export * from './replace-content-filter.handler';
