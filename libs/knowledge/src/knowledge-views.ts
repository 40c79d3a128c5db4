import type { Citation, ConversationEvent, KnowledgeDocumentView } from '@contracts';
import type { KnowledgeDocumentState } from './knowledge-document';

/** What the API shows of a document's stream; null when there is no live document (never, or deleted). */
export function documentView(
  documentId: string,
  state: KnowledgeDocumentState,
): KnowledgeDocumentView | null {
  if (state.status === 'absent' || state.status === 'deleted') return null;
  if (state.title === null || state.format === null || state.contentHash === null) return null;
  return {
    documentId,
    status: state.status,
    revision: state.revision,
    title: state.title,
    format: state.format,
    contentHash: state.contentHash,
    sizeBytes: state.sizeBytes,
    chunksIndexed: state.chunksIndexed,
    chunksTotal: state.chunksTotal,
    failure: state.failure,
  };
}

/**
 * The citations each customer message was answered with, folded from a conversation's events: what a
 * replay shows, and what the prompt's context was built from. Messages retrieval has not answered yet
 * are absent.
 */
export function citationsByMessage(events: readonly ConversationEvent[]): Map<string, Citation[]> {
  const citations = new Map<string, Citation[]>();
  for (const event of events) {
    if (event.type === 'conversation.knowledge-retrieved.v1')
      citations.set(event.data.messageId, event.data.results);
  }
  return citations;
}
