export * from './get-document.handler';
export * from './get-document.query';
