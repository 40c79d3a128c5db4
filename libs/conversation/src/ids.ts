import { createHash } from 'node:crypto';

/** Namespace for every id this engine derives (RFC 9562 UUIDv5). */
const ENGINE_NAMESPACE = Buffer.from('6f1c1e7a3b2d4c9e8a51d0c3b7e2f4a9', 'hex');

/**
 * A UUIDv5 derived from its parts. Reactions derive their event ids from what caused them, so a
 * redelivered message produces the same ids and the store's unique key makes the second append a no-op.
 */
export function derivedId(...parts: string[]): string {
  const hash = createHash('sha1').update(ENGINE_NAMESPACE).update(parts.join('\u001f')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Every id the engine derives, in one place. A recipe is frozen once released: changing one would give
 * a redelivery after a deploy a new id, and the store would no longer recognise it as a duplicate.
 * (The two argument orders below are historical and kept for that reason.)
 */
export const DerivedIds = {
  /** A message sent with a client idempotency key: the same key in the same conversation, the same message. */
  clientMessage: (tenantId: string, conversationId: string, idempotencyKey: string) =>
    derivedId('client-message', tenantId, conversationId, idempotencyKey),
  messageReceived: (messageId: string) => derivedId('message-received', messageId),
  /** A turn answers exactly these messages: the same messages, the same turn. */
  turn: (conversationId: string, messageIds: readonly string[]) =>
    derivedId('turn', conversationId, ...messageIds),
  replyRequested: (turnId: string) => derivedId('reply-requested', turnId),
  replyChunk: (turnId: string, attempt: number, chunkIndex: number) =>
    derivedId(turnId, 'chunk', String(attempt), String(chunkIndex)),
  /** One outcome per turn, whichever attempt produced it: completed and failed ids are fixed by the turn. */
  replyCompleted: (turnId: string) => derivedId(turnId, 'completed'),
  replyFailed: (turnId: string) => derivedId(turnId, 'failed'),
  replyBackendSwitched: (turnId: string, attempt: number, index: number) =>
    derivedId(turnId, 'backend-switched', String(attempt), String(index)),
  /**
   * A model task has one outcome, completed or failed: both share this id, so a redelivered request whose
   * first run failed (or succeeded) cannot add a second, different outcome.
   */
  modelTaskCompleted: (taskId: string) => derivedId('model-task-outcome', taskId),
  modelTaskFailed: (taskId: string) => derivedId('model-task-outcome', taskId),
} as const;
