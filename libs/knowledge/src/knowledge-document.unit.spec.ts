import type { PendingEvent } from '@contracts';
import {
  DocumentIds,
  decideDelete,
  decideIndexing,
  decideUpload,
  evolveDocument,
  initialDocumentState,
  type KnowledgeDocumentState,
} from './knowledge-document';

const UPLOAD = {
  tenantId: 'acme',
  documentId: 'returns-policy',
  title: 'Returns policy',
  format: 'markdown' as const,
  contentHash: 'a'.repeat(64),
  sizeBytes: 1200,
};

let sequence = 0;
function apply(state: KnowledgeDocumentState, pending: PendingEvent<'knowledge-document'>[]) {
  return pending.reduce(
    (current, event) =>
      evolveDocument(current, {
        ...event,
        tenantId: 'acme',
        streamId: 'kb-document:returns-policy',
        sequence: ++sequence,
        occurredAt: '2026-11-30T02:00:00.000Z',
        causationId: null,
        correlationId: event.eventId,
      }),
    state,
  );
}

describe('a knowledge document stream', () => {
  it('given nothing, when uploaded, then revision 1 is ingested and awaits indexing', () => {
    const events = decideUpload(UPLOAD, initialDocumentState());

    expect(events).toEqual([
      {
        eventId: DocumentIds.revision('acme', 'returns-policy', 1),
        type: 'knowledge.document-ingested.v1',
        data: {
          documentId: 'returns-policy',
          revision: 1,
          title: 'Returns policy',
          format: 'markdown',
          contentHash: 'a'.repeat(64),
          sizeBytes: 1200,
        },
      },
    ]);
    expect(apply(initialDocumentState(), events)).toMatchObject({ status: 'indexing', revision: 1 });
  });

  it('given a live revision, when the same bytes and title come again, then nothing happens', () => {
    const state = apply(initialDocumentState(), decideUpload(UPLOAD, initialDocumentState()));

    expect(decideUpload(UPLOAD, state)).toEqual([]);
  });

  it('given a live revision, when other bytes come, then revision 2 replaces it', () => {
    const state = apply(initialDocumentState(), decideUpload(UPLOAD, initialDocumentState()));
    const events = decideUpload({ ...UPLOAD, contentHash: 'b'.repeat(64) }, state);

    expect(events).toMatchObject([{ type: 'knowledge.document-replaced.v1', data: { revision: 2 } }]);
  });

  it('records progress, then indexed, only for the live revision and only forward', () => {
    let state = apply(initialDocumentState(), decideUpload(UPLOAD, initialDocumentState()));
    const command = (outcome: Parameters<typeof decideIndexing>[0]['outcome'], revision = 1) => ({
      tenantId: 'acme',
      documentId: 'returns-policy',
      revision,
      outcome,
    });

    state = apply(
      state,
      decideIndexing(command({ type: 'progressed', chunksIndexed: 32, chunksTotal: 70 }), state),
    );
    expect(state).toMatchObject({ chunksIndexed: 32, chunksTotal: 70 });
    expect(
      decideIndexing(command({ type: 'progressed', chunksIndexed: 32, chunksTotal: 70 }), state),
    ).toEqual([]);
    expect(decideIndexing(command({ type: 'indexed', chunks: 70, embeddingModel: 'e5' }, 2), state)).toEqual(
      [],
    );

    state = apply(
      state,
      decideIndexing(command({ type: 'indexed', chunks: 70, embeddingModel: 'e5' }), state),
    );
    expect(state).toMatchObject({ status: 'indexed', chunksIndexed: 70 });
    expect(decideIndexing(command({ type: 'indexed', chunks: 70, embeddingModel: 'e5' }), state)).toEqual([]);
  });

  it('deletes a live document once; an upload after that starts the next revision as a new ingest', () => {
    let state = apply(initialDocumentState(), decideUpload(UPLOAD, initialDocumentState()));
    state = apply(state, decideDelete(UPLOAD, state));

    expect(state.status).toBe('deleted');
    expect(decideDelete(UPLOAD, state)).toEqual([]);
    expect(decideUpload(UPLOAD, state)).toMatchObject([
      { type: 'knowledge.document-ingested.v1', data: { revision: 2 } },
    ]);
  });

  it('derives chunk ids from tenant, document, revision and position', () => {
    expect(DocumentIds.chunk('acme', 'd', 1, 0)).toBe(DocumentIds.chunk('acme', 'd', 1, 0));
    expect(
      new Set([
        DocumentIds.chunk('acme', 'd', 1, 0),
        DocumentIds.chunk('acme', 'd', 2, 0),
        DocumentIds.chunk('acme', 'd', 1, 1),
        DocumentIds.chunk('other', 'd', 1, 0),
      ]).size,
    ).toBe(4);
  });
});
