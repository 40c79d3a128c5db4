export * from './replace-limits.command';
export * from './replace-limits.handler';
