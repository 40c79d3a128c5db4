import type { EventOfType } from '@contracts';
import { listFromEvents, listReplacementEvents } from './filter-list-events';

const LIST_ID = '11111111-1111-4111-8111-111111111111';
const partId = (part: number) => `22222222-2222-4222-8222-${String(part).padStart(12, '0')}`;

/** The pending events as the store would give them back (the envelope does not matter here). */
function stored(events: ReturnType<typeof listReplacementEvents>) {
  return events.map((event) => ({ ...event, tenantId: 'acme', streamId: 'content-filter' })) as unknown as (
    EventOfType<'moderation.words-listed.v1'> | EventOfType<'moderation.list-replaced.v1'>
  )[];
}

describe('a word list as events', () => {
  it('given 4,500 words in two categories, when split, then parts hold at most 2,000 words of one category and the last event names how many came before', () => {
    const entries = [
      ...Array.from({ length: 4_100 }, (_, i) => ({ word: `w${i}`, category: 'abuse' })),
      ...Array.from({ length: 400 }, (_, i) => ({ word: `c${i}`, category: 'competitor' })),
    ];

    const events = listReplacementEvents(
      LIST_ID,
      { entries, actions: { abuse: 'mask', competitor: 'block' } },
      partId,
    );

    expect(events.map((event) => [event.type, 'words' in event.data ? event.data.words : null])).toEqual([
      ['moderation.words-listed.v1', expect.any(Array)],
      ['moderation.words-listed.v1', expect.any(Array)],
      ['moderation.words-listed.v1', expect.any(Array)],
      ['moderation.words-listed.v1', expect.any(Array)],
      ['moderation.list-replaced.v1', 4_500],
    ]);
    expect(events.at(-1)).toMatchObject({ eventId: LIST_ID, data: { parts: 4, actions: { abuse: 'mask' } } });
    const [replaced, ...parts] = stored(events).reverse();
    const list = listFromEvents(
      replaced as EventOfType<'moderation.list-replaced.v1'>,
      parts as EventOfType<'moderation.words-listed.v1'>[],
    );
    expect(list.entries).toEqual(entries);
  });

  it('given a part missing, when read back, then the list is refused rather than half applied', () => {
    const events = stored(
      listReplacementEvents(
        LIST_ID,
        {
          entries: Array.from({ length: 2_500 }, (_, i) => ({ word: `w${i}`, category: 'abuse' })),
          actions: { abuse: 'mask' },
        },
        partId,
      ),
    );
    const replaced = events.at(-1) as EventOfType<'moderation.list-replaced.v1'>;

    expect(() => listFromEvents(replaced, [events[0] as EventOfType<'moderation.words-listed.v1'>])).toThrow(
      /should have 2 parts/,
    );
  });
});
