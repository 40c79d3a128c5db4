export * from './delete-document.command';
export * from './delete-document.handler';
