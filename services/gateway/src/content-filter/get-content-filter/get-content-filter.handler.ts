import { Inject, Injectable } from '@nestjs/common';
import type { ContentFilterView } from '@contracts';
import type { ContentFilter } from '@libs/content-filter';
import { ContentFilterLists } from '@libs/event-store';

export class GetContentFilterQuery {
  constructor(readonly tenantId: string) {}
}

/** What the tenant's list compiled to, as every service applies it now; never the words. */
@Injectable()
export class GetContentFilterHandler {
  constructor(@Inject(ContentFilterLists) private readonly lists: ContentFilterLists) {}

  async execute({ tenantId }: GetContentFilterQuery): Promise<ContentFilterView> {
    const { version, filter } = await this.lists.current(tenantId);
    return contentFilterView(version, filter);
  }
}

export function contentFilterView(version: number, filter: ContentFilter): ContentFilterView {
  const { entries, categories, longestWord } = filter.stats;
  return { version, words: entries, categories: [...categories], longestWord };
}
