export * from './index-document.command';
export * from './index-document.handler';
export * from './indexing-checkpoints.repository';
