import { z } from 'zod';
import { TextSchema } from './conversation.events';
import { defineEvent } from './define-event';

/**
 * A tenant's knowledge base: every document is a stream of its own (`kb-document:<documentId>`). The
 * gateway records uploads, replacements and deletes; retrieval indexes each revision and records its
 * progress. The file itself stays out of the events (kept by content hash in `knowledge_files`), so
 * events stay small.
 */

/** The stream id prefix of a knowledge document: `kb-document:<documentId>`. */
export const KNOWLEDGE_DOCUMENT_STREAM_PREFIX = 'kb-document:';

/** A document id: what the tenant calls it, safe in a stream id and a URL path. */
export const DocumentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'letters, digits and . _ ~ - (at most 128)');

export const DocumentFormatSchema = z.enum(['markdown', 'html', 'text', 'pdf', 'docx', 'xlsx', 'csv']);
export type DocumentFormat = z.infer<typeof DocumentFormatSchema>;

/** SHA-256 of the file's bytes, lower-case hex: where `knowledge_files` keeps it. */
export const ContentHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'SHA-256, lower-case hex');

const RevisionData = {
  documentId: DocumentIdSchema,
  /** 1 for the first upload, +1 for each replacement: chunk ids are derived from it. */
  revision: z.number().int().min(1),
  title: TextSchema.min(1).max(500),
  format: DocumentFormatSchema,
  contentHash: ContentHashSchema,
  sizeBytes: z.number().int().min(1),
};

export const KnowledgeDocumentIngested = defineEvent(
  'knowledge-document',
  'knowledge.document-ingested',
  1,
  z.object(RevisionData).strict(),
  'A tenant uploaded a document that is not in its knowledge base (new, or deleted before: the revision ' +
    'goes on counting); retrieval indexes it.',
);

export const KnowledgeDocumentReplaced = defineEvent(
  'knowledge-document',
  'knowledge.document-replaced',
  1,
  z.object({ ...RevisionData, revision: z.number().int().min(2) }).strict(),
  'A tenant uploaded a changed document (other bytes or title): the new revision replaces every chunk of the old.',
);

export const KnowledgeDocumentIndexingProgressed = defineEvent(
  'knowledge-document',
  'knowledge.document-indexing-progressed',
  1,
  z
    .object({
      documentId: DocumentIdSchema,
      revision: z.number().int().min(1),
      chunksIndexed: z.number().int().min(0),
      chunksTotal: z.number().int().min(1),
    })
    .strict(),
  'Retrieval embedded and indexed this many chunks of a revision so far (a large document reports as it goes).',
);

export const KnowledgeDocumentIndexed = defineEvent(
  'knowledge-document',
  'knowledge.document-indexed',
  1,
  z
    .object({
      documentId: DocumentIdSchema,
      revision: z.number().int().min(1),
      chunks: z.number().int().min(0),
      /** The embeddings model the vectors came from: another model means re-indexing. */
      embeddingModel: TextSchema.max(200),
    })
    .strict(),
  'Every chunk of the revision is in both indexes (BM25 and vector), and no chunk of another revision is.',
);

export const KnowledgeDocumentIndexingFailed = defineEvent(
  'knowledge-document',
  'knowledge.document-indexing-failed',
  1,
  z
    .object({
      documentId: DocumentIdSchema,
      revision: z.number().int().min(1),
      /** `unparseable`: the file is not what its format says; `empty`: it holds no text. */
      code: z.enum(['unparseable', 'empty']),
      message: TextSchema.max(2_000),
    })
    .strict(),
  'Retrieval could not index a revision because of the file itself; uploading a fixed file replaces it.',
);

export const KnowledgeDocumentDeleted = defineEvent(
  'knowledge-document',
  'knowledge.document-deleted',
  1,
  z.object({ documentId: DocumentIdSchema, revision: z.number().int().min(1) }).strict(),
  'A tenant deleted a document: retrieval removes its chunks from both indexes. Uploading it again starts a new revision.',
);
