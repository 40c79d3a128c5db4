export * from './upload-document.command';
export * from './upload-document.handler';
