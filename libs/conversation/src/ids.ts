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
  /** One classification per message; one extraction per message, intent and slot list. */
  classifyTask: (messageId: string) => derivedId('classify-intent', messageId),
  extractTask: (messageId: string, intent: string, slots: readonly string[]) =>
    derivedId('extract-slots', messageId, intent, ...slots),
  /** A summary is identified by how far it reaches: the same reach, the same task. */
  summarizeTask: (conversationId: string, coversUpToSequence: number) =>
    derivedId('summarize', conversationId, String(coversUpToSequence)),
  modelTaskRequested: (taskId: string) => derivedId('model-task-requested', taskId),
  intentResolved: (messageId: string) => derivedId('intent-resolved', messageId),
  /** A message fills, corrects or has refused a given slot at most once. */
  slotEvent: (messageId: string, slot: string) => derivedId('slot', messageId, slot),
  botMessage: (conversationId: string, inReplyTo: readonly string[], template: string) =>
    derivedId('bot-message', conversationId, template, ...inReplyTo),
  botMessageSent: (messageId: string) => derivedId('bot-message-sent', messageId),
  handedOff: (conversationId: string, inReplyTo: readonly string[]) =>
    derivedId('handed-off', conversationId, ...inReplyTo),
  referenceAssigned: (startedEventId: string) => derivedId('reference-assigned', startedEventId),
  /** A silence is identified by the activity it follows: one timer, one timeout, however often it fires. */
  inactivityTimer: (conversationId: string, lastActivitySequence: number) =>
    derivedId('inactivity-timer', conversationId, String(lastActivitySequence)),
  knowledgeWaitTimer: (messageId: string) => derivedId('knowledge-wait-timer', messageId),
  timerFired: (timerId: string) => derivedId('timer-fired', timerId),
  /**
   * The OpenAI facade's conversation for a `user`: its nth one (the next once one is closed or
   * archived), so the same user carries on the same conversation from any replica without a lookup table.
   */
  openAiUserConversation: (tenantId: string, user: string, generation: number) =>
    derivedId('openai-user-conversation', tenantId, user, String(generation)),
  /** A one-turn facade call retried with the same Idempotency-Key lands in the same conversation. */
  openAiOneTurnConversation: (tenantId: string, idempotencyKey: string) =>
    derivedId('openai-one-turn-conversation', tenantId, idempotencyKey),
  replyBackendSwitched: (turnId: string, attempt: number, index: number) =>
    derivedId(turnId, 'backend-switched', String(attempt), String(index)),
  /**
   * A model task has one outcome, completed or failed: both share this id, so a redelivered request whose
   * first run failed (or succeeded) cannot add a second, different outcome.
   */
  modelTaskCompleted: (taskId: string) => derivedId('model-task-outcome', taskId),
  modelTaskFailed: (taskId: string) => derivedId('model-task-outcome', taskId),
} as const;
