export * from './document-parser';
