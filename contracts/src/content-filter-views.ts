import { z } from 'zod';
import { FilterActionSchema, FilterCategorySchema } from './events/content-filter.events';

/** `PUT /v1/settings/content-filter`: the tenant's whole list, replacing the previous one. */
export const ReplaceContentFilterBodySchema = z
  .object({
    /** The action of every category the entries use: mask, block, or handoff (block and hand to a human). */
    actions: z.record(FilterCategorySchema, FilterActionSchema),
    entries: z
      .array(z.object({ word: z.string().min(1).max(200), category: FilterCategorySchema }).strict())
      .max(500_000),
  })
  .strict();
export type ReplaceContentFilterBody = z.infer<typeof ReplaceContentFilterBodySchema>;

/** What a list compiled to; never the words. */
export const ContentFilterViewSchema = z
  .object({
    /** Version of the tenant's `content-filter` stream (0: no list). */
    version: z.number().int().min(0),
    words: z.number().int().min(0),
    categories: z.array(z.string()),
    /** Longest normalised word: how much of a streamed reply is held back at most. */
    longestWord: z.number().int().min(0),
  })
  .strict();
export type ContentFilterView = z.infer<typeof ContentFilterViewSchema>;
