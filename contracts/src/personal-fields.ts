import type { StoredEventType } from './events';

/**
 * Where each event type keeps personal data: paths into `data` of string fields declared with
 * `personal()` (see sealed-text.ts), which the store seals with the conversation's data key. `*` is
 * every element of an array or every value of a record; a path that is absent (another task kind) or
 * holds a non-string (a numeric amount, null) is left as it is. Every type says so, even with none, so
 * a new event type must decide.
 *
 * Not personal: the tenant's own texts (system prompt templates, bot templates, knowledge citations,
 * intent and slot descriptions), model names and error messages, and the erasure event itself. The
 * system prompt travels sealed anyway, inside `prompt` with the customer's turns.
 */
export type PersonalPath = readonly string[];

export const PERSONAL_FIELDS: { readonly [T in StoredEventType]: readonly PersonalPath[] } = {
  'conversation.started.v1': [],
  'conversation.started.v2': [],
  'conversation.message-received.v1': [['text']],
  'conversation.reply-requested.v1': [['prompt', '*', 'content']],
  'conversation.reply-chunk-generated.v1': [['text']],
  'conversation.reply-completed.v1': [['text']],
  'conversation.reply-completed.v2': [['text']],
  'conversation.reply-failed.v1': [],
  'conversation.closed.v1': [],
  'conversation.model-task-requested.v1': [
    ['task', 'text'],
    ['task', 'previousSummary'],
    ['task', 'transcript', '*', 'text'],
  ],
  'conversation.model-task-completed.v1': [
    ['result', 'slots', '*'],
    ['result', 'summary'],
  ],
  'conversation.model-task-failed.v1': [],
  'conversation.knowledge-retrieved.v1': [['query']],
  'conversation.reference-assigned.v1': [],
  'conversation.intent-resolved.v1': [],
  'conversation.slot-filled.v1': [['value']],
  'conversation.slot-corrected.v1': [['value'], ['previousValue']],
  'conversation.slot-rejected.v1': [['value']],
  'conversation.bot-message-sent.v1': [],
  'conversation.handed-off.v1': [],
  'conversation.agent-message-sent.v1': [['text']],
  'conversation.returned-to-bot.v1': [],
  'conversation.inactivity-timed-out.v1': [],
  'conversation.knowledge-wait-expired.v1': [],
  'conversation.reply-backend-switched.v1': [],
  // Ids and a hash only; the reply text is in the reply-completed event that follows, sealed there.
  'conversation.answer-cache-hit.v1': [],
  'conversation.erased.v1': [],
  'tenant.settings-updated.v1': [],
  'tenant.limits-set.v1': [],
  // Categories and counts, never the words; the lists are the tenant's, not a customer's.
  'conversation.content-flagged.v1': [],
  'moderation.words-listed.v1': [],
  'moderation.list-replaced.v1': [],
  'access.denied.v1': [],
  'access.raw-data-read.v1': [],
  'knowledge.document-ingested.v1': [],
  'knowledge.document-replaced.v1': [],
  'knowledge.document-indexing-progressed.v1': [],
  'knowledge.document-indexed.v1': [],
  'knowledge.document-indexing-failed.v1': [],
  'knowledge.document-deleted.v1': [],
};

/** True when events of `type` may carry personal data (an unknown type carries none we know of). */
export function hasPersonalFields(type: string): boolean {
  return (PERSONAL_FIELDS[type as StoredEventType]?.length ?? 0) > 0;
}

/**
 * A copy of `data` with every personal string replaced by `change(text)`; everything else, and `data`
 * itself, untouched. Pure and synchronous: the caller has the key at hand.
 */
export function mapPersonalFields<D>(type: string, data: D, change: (text: string) => string): D {
  const paths = PERSONAL_FIELDS[type as StoredEventType] ?? [];
  let result: unknown = data;
  for (const path of paths) result = mapAt(result, path, 0, change);
  return result as D;
}

function mapAt(value: unknown, path: PersonalPath, at: number, change: (text: string) => string): unknown {
  if (at === path.length) return typeof value === 'string' ? change(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  const segment = path[at]!;
  if (Array.isArray(value)) {
    return segment === '*' ? value.map((item) => mapAt(item, path, at + 1, change)) : value;
  }
  const record = value as Record<string, unknown>;
  if (segment === '*') {
    return Object.fromEntries(
      Object.entries(record).map(([key, item]) => [key, mapAt(item, path, at + 1, change)]),
    );
  }
  if (!(segment in record)) return value;
  return { ...record, [segment]: mapAt(record[segment], path, at + 1, change) };
}
