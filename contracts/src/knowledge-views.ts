import { z } from 'zod';
import { CitationSchema, DocumentFormatSchema, DocumentIdSchema } from './events';

/**
 * What the gateway's knowledge routes answer. Like the conversation views, one runtime schema per
 * response: the OpenAPI document is generated from it and clients validate with it. Objects are not
 * strict (tolerant reader).
 */

/** The media types an upload may be sent as, and the format each is parsed as. */
export const DOCUMENT_MEDIA_TYPES = {
  'text/markdown': 'markdown',
  'text/html': 'html',
  'text/plain': 'text',
  'text/csv': 'csv',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
} as const satisfies Record<string, z.infer<typeof DocumentFormatSchema>>;

export type DocumentMediaType = keyof typeof DOCUMENT_MEDIA_TYPES;

export const KnowledgeDocumentViewSchema = z
  .object({
    documentId: DocumentIdSchema,
    /** `indexing` until both indexes hold every chunk (`indexed`), or the file could not be (`failed`). */
    status: z.enum(['indexing', 'indexed', 'failed']),
    /** 1 for the first upload, +1 for each replacement. */
    revision: z.number().int().min(1),
    title: z.string(),
    format: DocumentFormatSchema,
    /** SHA-256 of the file's bytes: the same bytes under the same title are not indexed again. */
    contentHash: z.string(),
    sizeBytes: z.number().int().min(1),
    chunksIndexed: z.number().int().min(0),
    /** Known once retrieval has parsed and chunked the file. */
    chunksTotal: z.number().int().min(0).nullable(),
    /** Why the revision could not be indexed (`unparseable: …`, `empty: …`). */
    failure: z.string().nullable(),
  })
  .meta({
    title: 'KnowledgeDocument',
    description: 'A knowledge document as its stream tells it: the live revision and its indexing progress.',
  });

export type KnowledgeDocumentView = z.infer<typeof KnowledgeDocumentViewSchema>;

export const KnowledgeDocumentPageSchema = z.object({
  documents: z.array(KnowledgeDocumentViewSchema),
  /** Pass as `after` for the next page; null on the last page. */
  nextAfter: DocumentIdSchema.nullable(),
});

export type KnowledgeDocumentPage = z.infer<typeof KnowledgeDocumentPageSchema>;

export const KnowledgeSearchResultSchema = z
  .object({
    /** Best first, with citations (document, title, chunk position, score, text). */
    results: z.array(CitationSchema),
    /** A retriever that could not answer (breaker open, timeout, error): the results came without it. */
    degraded: z.object({ keyword: z.boolean(), vector: z.boolean() }),
    timings: z.object({ totalMs: z.number().min(0) }),
  })
  .meta({ title: 'KnowledgeSearchResult' });

export type KnowledgeSearchResult = z.infer<typeof KnowledgeSearchResultSchema>;
