export * from './knowledge-document';
export * from './chunking';
export * from './fusion';
export * from './knowledge-files.repository';
