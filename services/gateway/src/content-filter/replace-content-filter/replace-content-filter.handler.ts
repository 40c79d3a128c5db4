import { Inject, Injectable } from '@nestjs/common';
import type { ContentFilterView } from '@contracts';
import { derivedId } from '@libs/conversation';
import { ContentFilterLists } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { ID_GENERATOR, type IdGenerator } from '../ids';
import { contentFilterView } from '../get-content-filter';
import type { ReplaceContentFilterCommand } from './replace-content-filter.command';

/**
 * Replaces the tenant's whole list: compiled first (a bad entry is refused before anything is
 * written), then one append of its parts and `list-replaced`. Every service picks it up within its
 * refresh interval (ContentFilterLists); this replica at once.
 */
@Injectable()
export class ReplaceContentFilterHandler {
  constructor(
    @Inject(ContentFilterLists) private readonly lists: ContentFilterLists,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async execute({ tenantId, list }: ReplaceContentFilterCommand): Promise<ContentFilterView> {
    const listId = this.newId();
    const { version, filter } = await this.lists.replace(tenantId, list, {
      listId,
      partId: (part) => derivedId('content-filter-part', listId, String(part)),
    });
    // Counts and categories only: the words stay out of the logs.
    this.logger.info({ tenantId, version, ...filter.stats }, 'content filter list replaced');
    return contentFilterView(version, filter);
  }
}
