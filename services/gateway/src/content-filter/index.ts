import { ContentFilterLists, EventStore } from '@libs/event-store';
import { ContentFilterController } from './content-filter.controller';
import { GetContentFilterHandler } from './get-content-filter';
import { ContentScreen } from '../conversations';
import { ReplaceContentFilterHandler } from './replace-content-filter';

export * from './content-filter.controller';
export { GetContentFilterHandler } from './get-content-filter';
export { ReplaceContentFilterHandler } from './replace-content-filter';

/** The list upload is far larger than any other JSON body: it gets its own limit. */
export const CONTENT_FILTER_ROUTE = { method: 'PUT', path: /^\/v1\/settings\/content-filter\/?$/i } as const;

export const CONTENT_FILTER_CONTROLLERS = [ContentFilterController];

/** The word lists (refreshed every `refreshMs`), the screen of customer and agent text, and the admin use cases. */
export function contentFilterProviders(refreshMs: number) {
  return [
    {
      provide: ContentFilterLists,
      inject: [EventStore],
      useFactory: (store: EventStore) => new ContentFilterLists(store, refreshMs),
    },
    ContentScreen,
    GetContentFilterHandler,
    ReplaceContentFilterHandler,
  ];
}
