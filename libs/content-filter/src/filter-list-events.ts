import { MAX_WORDS_PER_PART, type EventOfType, type PendingEvent } from '@contracts';
import type { CategoryActions, FilterEntry } from './filter-entry';

type ListReplaced = EventOfType<'moderation.list-replaced.v1'>;
type WordsListed = EventOfType<'moderation.words-listed.v1'>;

/** A tenant's list as the store keeps it: the words and each category's action. */
export interface FilterList {
  readonly entries: readonly FilterEntry[];
  readonly actions: CategoryActions;
}

/**
 * The events of one replacement, in the order they must be appended: the words grouped by category in
 * parts of at most MAX_WORDS_PER_PART, then `list-replaced` naming how many parts came before it, so a
 * reader finds the whole list from the stream's last event. `partId` gives each part its event id.
 */
export function listReplacementEvents(
  listId: string,
  list: FilterList,
  partId: (part: number) => string,
): PendingEvent<'content-filter'>[] {
  const byCategory = new Map<string, string[]>();
  for (const { word, category } of list.entries) {
    let words = byCategory.get(category);
    if (words === undefined) byCategory.set(category, (words = []));
    words.push(word);
  }
  const parts: PendingEvent<'content-filter'>[] = [];
  for (const [category, words] of byCategory) {
    for (let from = 0; from < words.length; from += MAX_WORDS_PER_PART) {
      const part = parts.length;
      parts.push({
        eventId: partId(part),
        type: 'moderation.words-listed.v1',
        data: { listId, part, category, words: words.slice(from, from + MAX_WORDS_PER_PART) },
      });
    }
  }
  return [
    ...parts,
    {
      eventId: listId,
      type: 'moderation.list-replaced.v1',
      data: { listId, parts: parts.length, words: list.entries.length, actions: { ...list.actions } },
    },
  ];
}

/**
 * The list from the events of its replacement: `replaced` and the parts before it (in any order).
 * Parts of another replacement, or a missing part, mean the read was wrong: refused, never half a list.
 */
export function listFromEvents(replaced: ListReplaced, parts: readonly WordsListed[]): FilterList {
  const { listId, parts: expected, actions } = replaced.data;
  const ordered = parts
    .filter((part) => part.data.listId === listId)
    .sort((a, b) => a.data.part - b.data.part);
  if (ordered.length !== expected || ordered.some((part, index) => part.data.part !== index)) {
    throw new Error(`list ${listId} should have ${expected} parts, found ${ordered.length}`);
  }
  const entries = ordered.flatMap((part) =>
    part.data.words.map((word) => ({ word, category: part.data.category })),
  );
  return { entries, actions };
}
