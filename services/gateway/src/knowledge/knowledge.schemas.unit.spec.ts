import { DOCUMENT_MEDIA_TYPES } from '@contracts';
import { buildOpenApiDocument } from '../http/openapi';
import { SearchKnowledgeBody, UploadDocumentParams, charsetOf, documentFormatOf } from './knowledge.schemas';

describe('knowledge uploads', () => {
  it('take their format from the media type, whatever its case and parameters', () => {
    expect(documentFormatOf('text/markdown')).toBe('markdown');
    expect(documentFormatOf('Text/HTML; charset=UTF-8')).toBe('html');
    expect(documentFormatOf('application/pdf')).toBe('pdf');
    expect(documentFormatOf('application/json')).toBeNull();
    expect(documentFormatOf(undefined)).toBeNull();
    expect(charsetOf('text/plain; charset="GBK"')).toBe('gbk');
    expect(charsetOf('text/plain')).toBeNull();
  });

  it('need a title that is not blank, and a search a query that is not blank', () => {
    expect(UploadDocumentParams.safeParse({ title: '退货政策' }).success).toBe(true);
    expect(UploadDocumentParams.safeParse({ title: '  ' }).success).toBe(false);
    expect(UploadDocumentParams.safeParse({}).success).toBe(false);
    expect(SearchKnowledgeBody.parse({ query: 'refund' })).toEqual({
      query: 'refund',
      topK: 5,
      mode: 'hybrid',
    });
    expect(SearchKnowledgeBody.safeParse({ query: ' ' }).success).toBe(false);
    expect(SearchKnowledgeBody.safeParse({ query: 'x', topK: 11 }).success).toBe(false);
  });

  it('are declared in the API document with every media type, the size limit and their errors', () => {
    const document = buildOpenApiDocument({ maxFileBytes: 2 * 1_048_576 }) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: object }; responses: object; description?: string }>
      >;
    };
    const upload = document.paths['/v1/knowledge/documents/{documentId}']?.put;
    expect(Object.keys(upload?.requestBody?.content ?? {})).toEqual(Object.keys(DOCUMENT_MEDIA_TYPES));
    expect(upload?.description).toContain('2 MiB');
    expect(Object.keys(upload?.responses ?? {}).sort()).toEqual(
      ['200', '202', '400', '401', '403', '404', '413', '415', '429', '503'].sort(),
    );
    expect(document.paths['/v1/knowledge/search']?.post?.responses).toHaveProperty('503');
  });
});
