/** One chunk as both indexes hold it. */
export interface IndexedChunk {
  /** Derived from tenant, document, revision and position (DocumentIds.chunk): writing it twice is harmless. */
  id: string;
  tenantId: string;
  documentId: string;
  revision: number;
  chunkIndex: number;
  title: string;
  heading: string | null;
  text: string;
}

/** A chunk a backend found for a query, best first within its list. */
export interface ChunkHit {
  id: string;
  documentId: string;
  title: string;
  chunkIndex: number;
  text: string;
  /** The backend's own score (BM25 or cosine): comparable only within one list. */
  score: number;
}

/** What both indexes embed and match: the chunk with its document title and section heading. */
export function searchableText(chunk: Pick<IndexedChunk, 'title' | 'heading' | 'text'>): string {
  return [chunk.title, chunk.heading, chunk.text].filter(Boolean).join('\n');
}
