import type { ConversationEvent } from '@contracts';
import { initialDocumentState } from './knowledge-document';
import { citationsByMessage, documentView } from './knowledge-views';

const citation = (documentId: string) => ({
  documentId,
  title: documentId,
  chunkIndex: 0,
  score: 0.5,
  text: 'x',
});

describe('documentView', () => {
  it('shows a live document, and nothing for one never uploaded or deleted', () => {
    const live = {
      ...initialDocumentState(),
      status: 'indexing' as const,
      revision: 2,
      title: 'Returns',
      format: 'markdown' as const,
      contentHash: 'a'.repeat(64),
      sizeBytes: 10,
      chunksIndexed: 4,
      chunksTotal: 9,
    };
    expect(documentView('returns', live)).toEqual({
      documentId: 'returns',
      status: 'indexing',
      revision: 2,
      title: 'Returns',
      format: 'markdown',
      contentHash: 'a'.repeat(64),
      sizeBytes: 10,
      chunksIndexed: 4,
      chunksTotal: 9,
      failure: null,
    });
    expect(documentView('returns', initialDocumentState())).toBeNull();
    expect(documentView('returns', { ...live, status: 'deleted' })).toBeNull();
  });
});

describe('citationsByMessage', () => {
  it('folds each message’s knowledge-retrieved into its citations, ignoring other events', () => {
    const retrieved = (messageId: string, documentIds: string[]) =>
      ({
        type: 'conversation.knowledge-retrieved.v1',
        data: {
          messageId,
          query: 'q',
          results: documentIds.map(citation),
          degraded: { keyword: false, vector: false },
          timings: { totalMs: 1 },
        },
      }) as unknown as ConversationEvent;
    const other = { type: 'conversation.message-received.v1', data: {} } as unknown as ConversationEvent;

    const folded = citationsByMessage([other, retrieved('m1', ['a', 'b']), retrieved('m2', [])]);

    expect([...folded.keys()]).toEqual(['m1', 'm2']);
    expect(folded.get('m1')?.map((one) => one.documentId)).toEqual(['a', 'b']);
    expect(folded.get('m2')).toEqual([]);
  });
});
