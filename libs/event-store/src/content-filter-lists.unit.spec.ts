import { AppError } from '@contracts';
import { syntheticWordList } from '@libs/content-filter/testing';
import { ContentFilterLists } from './content-filter-lists';
import { InMemoryEventStore } from './in-memory-event-store';

const ids = (listId: string) => ({
  listId,
  partId: (part: number) => `${listId.slice(0, -4)}${String(part).padStart(4, '0')}`,
});
const LIST_1 = '11111111-1111-4111-8111-111111111111';
const LIST_2 = '22222222-2222-4222-8222-222222222222';

describe('ContentFilterLists', () => {
  it('given a list replaced through one service, when another reads it, then it applies there without a restart', async () => {
    const store = new InMemoryEventStore();
    let now = 0;
    const gateway = new ContentFilterLists(store, 1_000, () => now);
    const inference = new ContentFilterLists(store, 1_000, () => now);
    expect((await inference.filterOf('acme')).scan('加微信').action).toBe('none');

    const words = syntheticWordList(4_500, 7).map((entry) => ({ ...entry, category: 'competitor' }));
    await gateway.replace(
      'acme',
      {
        entries: [...words, { word: '加微信', category: 'contact-diversion' }],
        actions: { competitor: 'mask', 'contact-diversion': 'block' },
      },
      ids(LIST_1),
    );
    // Within the refresh interval the old list still serves; after it, the new one.
    expect((await inference.filterOf('acme')).scan('加 微 信').action).toBe('none');
    now += 1_000;
    const filter = await inference.filterOf('acme');
    expect(filter.scan('请加 微.信').action).toBe('block');
    expect(filter.stats.entries).toBe(4_501);
    const stored = await store.read('content-filter', { tenantId: 'acme', streamId: 'content-filter' });
    expect(stored.map((event) => event.type)).toEqual([
      'moderation.words-listed.v1',
      'moderation.words-listed.v1',
      'moderation.words-listed.v1',
      'moderation.words-listed.v1',
      'moderation.list-replaced.v1',
    ]);

    await gateway.replace(
      'acme',
      { entries: [{ word: '刷单', category: 'fraud' }], actions: { fraud: 'handoff' } },
      ids(LIST_2),
    );
    now += 1_000;
    const next = await inference.filterOf('acme');
    expect(next.scan('加微信').action).toBe('none');
    expect(next.scan('刷 單').action).toBe('handoff');
    expect((await inference.filterOf('globex')).stats.entries).toBe(0);
  });

  it('given a category without an action, when replaced, then nothing is written and the error names no word', async () => {
    const store = new InMemoryEventStore();
    const lists = new ContentFilterLists(store, 0);

    const replaced = lists.replace(
      'acme',
      { entries: [{ word: '加微信', category: 'abuse' }], actions: {} },
      ids(LIST_1),
    );

    await expect(replaced).rejects.toBeInstanceOf(AppError);
    await expect(replaced).rejects.not.toThrow(/加微信/);
    expect(await store.streamVersion({ tenantId: 'acme', streamId: 'content-filter' })).toBeNull();
  });
});
