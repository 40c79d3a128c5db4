export * from './list-documents.handler';
export * from './list-documents.query';
