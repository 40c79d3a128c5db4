import { z } from 'zod';
import {
  DOCUMENT_MEDIA_TYPES,
  DocumentIdSchema,
  TextSchema,
  type DocumentFormat,
  type DocumentMediaType,
} from '@contracts';

/**
 * The request schemas of the knowledge routes; the routes validate with them and the OpenAPI document
 * is generated from them, as for conversations.
 */

export const DocumentIdParam = DocumentIdSchema.describe(
  'The tenant’s own id for the document (letters, digits and . _ ~ -, at most 128). Another tenant’s ' +
    'document answers 404 like an unknown one.',
);

export const UploadDocumentParams = z
  .object({
    title: TextSchema.min(1)
      .max(500)
      .refine((title) => title.trim().length > 0, 'title must not be blank')
      .describe(
        'The document’s title, shown in citations (percent-encoded UTF-8). Uploading the same bytes ' +
          'under the same title again changes nothing; another title or other bytes start a new revision.',
      ),
  })
  .strict();

export const ListDocumentsParams = z
  .object({
    after: DocumentIdSchema.optional().describe('Documents after this id (the previous page’s `nextAfter`).'),
    limit: z.coerce.number().int().min(1).max(100).default(50).describe('At most this many documents.'),
  })
  .strict();

export const SearchKnowledgeBody = z
  .object({
    query: TextSchema.min(1)
      .max(4_000)
      .refine((query) => query.trim().length > 0, 'query must not be blank')
      .describe('What to look for, in any language; the same search a customer message gets.'),
    topK: z.number().int().min(1).max(10).default(5).describe('How many citations, best first.'),
    mode: z
      .enum(['hybrid', 'keyword', 'vector'])
      .default('hybrid')
      .describe('`hybrid` (BM25 and vectors fused, what turns use), or one retriever only, to compare.'),
  })
  .strict();

export type SearchKnowledgeInput = z.output<typeof SearchKnowledgeBody>;

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The `charset` parameter of a Content-Type header, lower case, or null. */
export function charsetOf(contentType: string | undefined): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase() ?? null;
}

export function isDocumentMediaType(mediaType: string): mediaType is DocumentMediaType {
  return Object.hasOwn(DOCUMENT_MEDIA_TYPES, mediaType);
}

/** The format an upload is parsed as, from its Content-Type; null when it is not one we index. */
export function documentFormatOf(contentType: string | undefined): DocumentFormat | null {
  const mediaType = mediaTypeOf(contentType);
  return isDocumentMediaType(mediaType) ? DOCUMENT_MEDIA_TYPES[mediaType] : null;
}

/** Text formats are decoded as UTF-8 by retrieval, so their bytes must be UTF-8. */
export const TEXT_FORMATS: ReadonlySet<DocumentFormat> = new Set(['markdown', 'html', 'text', 'csv']);
