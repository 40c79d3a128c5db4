import { AppError, CONTENT_FILTER_STREAM, type EventOfType } from '@contracts';
import {
  ContentFilter,
  ContentFilterError,
  listFromEvents,
  listReplacementEvents,
  type FilterList,
} from '@libs/content-filter';
import type { EventStore } from './event-store';

interface Cached {
  /** The stream version the filter was built from (0: no list). */
  version: number;
  filter: ContentFilter;
  checkedAt: number;
}

const EMPTY = ContentFilter.build([]);

/**
 * Tenants' sensitive-word lists, compiled, kept current without a restart. A list is its tenant's
 * `content-filter` stream; each service asks the store for that stream's version at most once per
 * `refreshMs` per tenant (one indexed lookup) and rebuilds the automaton only when the version moved.
 * Polling the version rather than consuming the list events reaches every replica of every service
 * (consumer groups share a topic's events between replicas) and needs no topic subscription; a
 * change applies within `refreshMs` plus the build (about a second at 80k words).
 */
export class ContentFilterLists {
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached>>();

  constructor(
    private readonly store: EventStore,
    private readonly refreshMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The tenant's compiled list; a tenant without one gets a filter that finds nothing. */
  async filterOf(tenantId: string): Promise<ContentFilter> {
    return (await this.current(tenantId)).filter;
  }

  /** The compiled list and the stream version it was built from (0: the tenant has none). */
  current(tenantId: string): Promise<{ version: number; filter: ContentFilter }> {
    const cached = this.cache.get(tenantId);
    if (cached && this.now() - cached.checkedAt < this.refreshMs) return Promise.resolve(cached);
    let pending = this.loading.get(tenantId);
    if (pending === undefined) {
      pending = this.refresh(tenantId, cached).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    return pending;
  }

  /**
   * Replaces the tenant's list: compiled first (a bad category, action or word is refused with
   * validation-failed naming the category and entry index, never the word), then appended as one
   * replacement. Returns the stream version and what the list compiled to.
   */
  async replace(
    tenantId: string,
    list: FilterList,
    ids: { listId: string; partId: (part: number) => string },
  ): Promise<{ version: number; filter: ContentFilter }> {
    let filter: ContentFilter;
    try {
      filter = ContentFilter.build(list.entries, list.actions);
    } catch (error) {
      if (error instanceof ContentFilterError) {
        throw new AppError('validation-failed', error.message, { code: error.code, ...error.details });
      }
      throw error;
    }
    const ref = { tenantId, streamId: CONTENT_FILTER_STREAM };
    // A replacement does not depend on the old list, but the first one creates the stream (version 0).
    const current = (await this.store.streamVersion(ref)) ?? 0;
    const result = await this.store.append(
      {
        ...ref,
        kind: 'content-filter',
        expectedVersion: current,
        causationId: null,
        correlationId: ids.listId,
      },
      listReplacementEvents(ids.listId, list, ids.partId),
    );
    this.cache.set(tenantId, { version: result.version, filter, checkedAt: this.now() });
    return { version: result.version, filter };
  }

  private async refresh(tenantId: string, cached: Cached | undefined): Promise<Cached> {
    const ref = { tenantId, streamId: CONTENT_FILTER_STREAM };
    const version = (await this.store.streamVersion(ref)) ?? 0;
    if (cached && cached.version === version) {
      cached.checkedAt = this.now();
      return cached;
    }
    const filter = version === 0 ? EMPTY : await this.load(tenantId, version);
    const fresh = { version, filter, checkedAt: this.now() };
    this.cache.set(tenantId, fresh);
    return fresh;
  }

  /** The list whose `list-replaced` is event `version`: that event, then the parts just before it. */
  private async load(tenantId: string, version: number): Promise<ContentFilter> {
    const ref = { tenantId, streamId: CONTENT_FILTER_STREAM };
    const [last] = await this.store.read('content-filter', ref, {
      afterSequence: version - 1,
      toSequence: version,
    });
    if (last?.type !== 'moderation.list-replaced.v1') {
      throw new AppError(
        'stream-corrupted',
        `the content-filter stream does not end with a list at ${version}`,
      );
    }
    const { parts } = last.data;
    const events =
      parts === 0
        ? []
        : await this.store.read('content-filter', ref, {
            afterSequence: version - 1 - parts,
            toSequence: version - 1,
          });
    const words = events.filter(
      (event): event is EventOfType<'moderation.words-listed.v1'> =>
        event.type === 'moderation.words-listed.v1',
    );
    const list = listFromEvents(last, words);
    return ContentFilter.build(list.entries, list.actions);
  }
}
