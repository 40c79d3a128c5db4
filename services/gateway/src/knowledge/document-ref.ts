import { AppError } from '@contracts';
import type { StreamRef } from '@libs/event-store';
import { documentStreamId } from '@libs/knowledge';
import { DocumentIdParam } from './knowledge.schemas';

/** The stream of a tenant's document; a malformed id is as unknown as a missing one (404). */
export function documentRef(tenantId: string, documentId: string): StreamRef & { documentId: string } {
  if (!DocumentIdParam.safeParse(documentId).success) throw documentNotFound(documentId);
  return { tenantId, streamId: documentStreamId(documentId), documentId };
}

export function documentNotFound(documentId: string): AppError {
  return new AppError('not-found', `no knowledge document ${JSON.stringify(documentId)} for this tenant`);
}
