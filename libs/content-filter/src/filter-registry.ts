import { ContentFilter, type ScanResult } from './content-filter';
import type { CategoryActions, FilterEntry } from './filter-entry';
import { FilterStream } from './filter-stream';

/**
 * Each tenant's compiled list, replaceable while the process runs. `replace` builds the new
 * automaton completely and only then swaps the reference, so a reader sees the old list or the new
 * one, never a half-built one; a list that fails to build leaves the old one in place. Streams keep
 * the filter they were opened with.
 */
export class FilterRegistry {
  private readonly filters = new Map<string, ContentFilter>();
  private readonly empty = ContentFilter.build([]);

  replace(tenantId: string, entries: readonly FilterEntry[], actions?: CategoryActions): ContentFilter {
    const filter = ContentFilter.build(entries, actions);
    this.filters.set(tenantId, filter);
    return filter;
  }

  remove(tenantId: string): void {
    this.filters.delete(tenantId);
  }

  /** The tenant's filter; a tenant without a list gets one that finds nothing. */
  get(tenantId: string): ContentFilter {
    return this.filters.get(tenantId) ?? this.empty;
  }

  scan(tenantId: string, text: string): ScanResult {
    return this.get(tenantId).scan(text);
  }

  openStream(tenantId: string): FilterStream {
    return new FilterStream(this.get(tenantId));
  }
}
