export * from './knowledge-document';
export * from './chunking';
export * from './fusion';
export * from './knowledge-files.repository';
export * from './knowledge-views';
export * from './knowledge-directory.repository';
