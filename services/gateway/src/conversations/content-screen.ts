import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import { verdictOf, type FilterVerdict } from '@libs/content-filter';
import { ContentFilterLists } from '@libs/event-store';

export interface ScreenedText {
  /** The text with every matched word masked (the text itself when nothing matched). */
  readonly text: string;
  /** Null when nothing matched. */
  readonly verdict: FilterVerdict | null;
}

/**
 * Text people write (customers, and human agents writing to them) against the tenant's word list,
 * where it enters the engine: the gateway. Screening here, before the append, means a masked word never
 * reaches the store, Kafka, the audit log or any log, a blocked message can be refused in the same
 * request (422), and every way in (REST, IM channels, the agent desk) passes the same check. Sessions
 * would only see it after it was stored. (Bot replies are screened by inference, as they stream.)
 */
@Injectable()
export class ContentScreen {
  constructor(@Inject(ContentFilterLists) private readonly lists: ContentFilterLists) {}

  async screen(tenantId: string, text: string): Promise<ScreenedText> {
    const filter = await this.lists.filterOf(tenantId);
    const result = filter.scan(text);
    return { text: result.masked, verdict: verdictOf(result.matches) };
  }
}

/** A blocked message is refused with 422 `content-blocked`, naming the categories (never the words). */
export function refuseIfBlocked(verdict: FilterVerdict | null): void {
  if (verdict?.action === 'block') {
    throw new AppError('content-blocked', undefined, { categories: verdict.categories });
  }
}
