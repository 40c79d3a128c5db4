export * from './knowledge.controller';
export * from './retrieval-search.client';
export { DeleteDocumentHandler } from './delete-document';
export { GetDocumentHandler } from './get-document';
export { ListDocumentsHandler } from './list-documents';
export { SearchKnowledgeHandler } from './search-knowledge';
export { UploadDocumentHandler } from './upload-document';
