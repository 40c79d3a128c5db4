import {
  KNOWLEDGE_DOCUMENT_STREAM_PREFIX,
  type DocumentFormat,
  type KnowledgeDocumentEvent,
  type PendingEvent,
} from '@contracts';
import { derivedId } from '@libs/conversation';

export type DocumentStatus = 'absent' | 'indexing' | 'indexed' | 'failed' | 'deleted';

/** One knowledge document as its stream tells it: the current revision and how far its indexing got. */
export interface KnowledgeDocumentState {
  status: DocumentStatus;
  /** The last revision ever recorded (0: none); a re-upload after a delete goes on counting. */
  revision: number;
  title: string | null;
  format: DocumentFormat | null;
  contentHash: string | null;
  sizeBytes: number;
  chunksIndexed: number;
  chunksTotal: number | null;
  /** Why the last revision could not be indexed. */
  failure: string | null;
}

export function initialDocumentState(): KnowledgeDocumentState {
  return {
    status: 'absent',
    revision: 0,
    title: null,
    format: null,
    contentHash: null,
    sizeBytes: 0,
    chunksIndexed: 0,
    chunksTotal: null,
    failure: null,
  };
}

/** evolve(state, event) -> state. Events of an older revision (a late progress report) change nothing. */
export function evolveDocument(
  state: KnowledgeDocumentState,
  event: KnowledgeDocumentEvent,
): KnowledgeDocumentState {
  switch (event.type) {
    case 'knowledge.document-ingested.v1':
    case 'knowledge.document-replaced.v1': {
      const { revision, title, format, contentHash, sizeBytes } = event.data;
      return {
        ...initialDocumentState(),
        status: 'indexing',
        revision,
        title,
        format,
        contentHash,
        sizeBytes,
      };
    }
    case 'knowledge.document-indexing-progressed.v1':
      if (event.data.revision !== state.revision) return state;
      return { ...state, chunksIndexed: event.data.chunksIndexed, chunksTotal: event.data.chunksTotal };
    case 'knowledge.document-indexed.v1':
      if (event.data.revision !== state.revision) return state;
      return {
        ...state,
        status: 'indexed',
        chunksIndexed: event.data.chunks,
        chunksTotal: event.data.chunks,
      };
    case 'knowledge.document-indexing-failed.v1':
      if (event.data.revision !== state.revision) return state;
      return { ...state, status: 'failed', failure: `${event.data.code}: ${event.data.message}` };
    case 'knowledge.document-deleted.v1':
      return { ...state, status: 'deleted', chunksIndexed: 0, chunksTotal: null };
    default: {
      const unexpected: never = event;
      throw new Error(`unhandled knowledge document event ${(unexpected as KnowledgeDocumentEvent).type}`);
    }
  }
}

/** The knowledge document kind for the generic stream runner (@libs/event-store StreamRunner). */
export const knowledgeDocumentStream = {
  kind: 'knowledge-document' as const,
  initialState: initialDocumentState,
  evolve: evolveDocument,
};

export function documentStreamId(documentId: string): string {
  return `${KNOWLEDGE_DOCUMENT_STREAM_PREFIX}${documentId}`;
}

/** The document id of a `kb-document:<documentId>` stream id. */
export function documentIdOf(streamId: string): string {
  return streamId.slice(KNOWLEDGE_DOCUMENT_STREAM_PREFIX.length);
}

type DocumentEvent = PendingEvent<'knowledge-document'>;

export interface UploadDocument {
  tenantId: string;
  documentId: string;
  title: string;
  format: DocumentFormat;
  contentHash: string;
  sizeBytes: number;
}

/**
 * An upload: the same bytes under the same title as the live revision change nothing (re-ingesting an
 * unchanged document is a no-op); anything else starts the next revision, which replaces every chunk.
 * Ids derive from the revision, so a retried upload of the same revision is stored once.
 */
export function decideUpload(command: UploadDocument, state: KnowledgeDocumentState): DocumentEvent[] {
  const live = state.status !== 'absent' && state.status !== 'deleted';
  if (live && state.contentHash === command.contentHash && state.title === command.title) return [];
  const revision = state.revision + 1;
  const data = {
    documentId: command.documentId,
    revision,
    title: command.title,
    format: command.format,
    contentHash: command.contentHash,
    sizeBytes: command.sizeBytes,
  };
  const eventId = DocumentIds.revision(command.tenantId, command.documentId, revision);
  return live
    ? [{ eventId, type: 'knowledge.document-replaced.v1', data }]
    : [{ eventId, type: 'knowledge.document-ingested.v1', data }];
}

/** A delete of a live document; deleting what is absent or deleted already changes nothing. */
export function decideDelete(
  command: { tenantId: string; documentId: string },
  state: KnowledgeDocumentState,
): DocumentEvent[] {
  if (state.status === 'absent' || state.status === 'deleted') return [];
  return [
    {
      eventId: DocumentIds.deleted(command.tenantId, command.documentId, state.revision),
      type: 'knowledge.document-deleted.v1',
      data: { documentId: command.documentId, revision: state.revision },
    },
  ];
}

/** Whether retrieval should (still) index this revision: it is the live one and not finished. */
export function awaitsIndexing(state: KnowledgeDocumentState, revision: number): boolean {
  return state.revision === revision && state.status === 'indexing';
}

export type IndexingOutcome =
  | { type: 'progressed'; chunksIndexed: number; chunksTotal: number }
  | { type: 'indexed'; chunks: number; embeddingModel: string }
  | { type: 'failed'; code: 'unparseable' | 'empty'; message: string };

/** What retrieval records while indexing a revision; nothing once the revision is replaced, deleted or done. */
export function decideIndexing(
  command: { tenantId: string; documentId: string; revision: number; outcome: IndexingOutcome },
  state: KnowledgeDocumentState,
): DocumentEvent[] {
  const { tenantId, documentId, revision, outcome } = command;
  if (!awaitsIndexing(state, revision)) return [];
  switch (outcome.type) {
    case 'progressed':
      if (outcome.chunksIndexed <= state.chunksIndexed) return [];
      return [
        {
          eventId: derivedId(
            'kb-progress',
            tenantId,
            documentId,
            String(revision),
            String(outcome.chunksIndexed),
          ),
          type: 'knowledge.document-indexing-progressed.v1',
          data: {
            documentId,
            revision,
            chunksIndexed: outcome.chunksIndexed,
            chunksTotal: outcome.chunksTotal,
          },
        },
      ];
    case 'indexed':
      return [
        {
          eventId: derivedId('kb-indexed', tenantId, documentId, String(revision)),
          type: 'knowledge.document-indexed.v1',
          data: { documentId, revision, chunks: outcome.chunks, embeddingModel: outcome.embeddingModel },
        },
      ];
    case 'failed':
      return [
        {
          eventId: derivedId('kb-failed', tenantId, documentId, String(revision)),
          type: 'knowledge.document-indexing-failed.v1',
          data: { documentId, revision, code: outcome.code, message: outcome.message.slice(0, 2_000) },
        },
      ];
    default: {
      const unexpected: never = outcome;
      throw new Error(`unhandled indexing outcome ${(unexpected as IndexingOutcome).type}`);
    }
  }
}

/** Ids this kind derives; frozen once released (see DerivedIds in @libs/conversation). */
export const DocumentIds = {
  revision: (tenantId: string, documentId: string, revision: number) =>
    derivedId('kb-revision', tenantId, documentId, String(revision)),
  deleted: (tenantId: string, documentId: string, revision: number) =>
    derivedId('kb-deleted', tenantId, documentId, String(revision)),
  /** A chunk of one revision: re-indexing after a crash writes the same ids, so nothing is duplicated. */
  chunk: (tenantId: string, documentId: string, revision: number, chunkIndex: number) =>
    derivedId('kb-chunk', tenantId, documentId, String(revision), String(chunkIndex)),
  /** The knowledge retrieved for a customer message: one per message, whatever the redeliveries. */
  knowledgeRetrieved: (messageId: string) => derivedId('knowledge-retrieved', messageId),
} as const;
