import { z } from 'zod';
import { TextSchema } from './conversation.events';
import { defineEvent } from './define-event';

/**
 * A tenant's sensitive-word list (issue 11, part 4) is a stream of its own (`content-filter`), so a
 * change is recorded, audited and reaches every service without a restart. Lists reach 80k+ words,
 * more than one Kafka message should carry, so one replacement is one append of several events: the
 * words in parts of at most 2,000 (`words-listed`), then `list-replaced`, which names how many parts
 * precede it. The latest list is therefore the last `parts + 1` events of the stream.
 */
export const CONTENT_FILTER_STREAM = 'content-filter';

/** What a match does: mask the words, block the message, or block it and hand off to a human. */
export const FilterActionSchema = z.enum(['mask', 'block', 'handoff']);

/** A known category (contact-diversion, abuse, politics, fraud, competitor) or a tenant's own, kebab-case. */
export const FilterCategorySchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a kebab-case category');

export const MAX_WORDS_PER_PART = 2000;

export const ContentFilterWordsListed = defineEvent(
  'content-filter',
  'moderation.words-listed',
  1,
  z
    .object({
      /** The replacement these words belong to (the id of its `list-replaced` event). */
      listId: z.uuid(),
      /** 0-based position among the replacement's parts. */
      part: z.number().int().min(0),
      category: FilterCategorySchema,
      words: z.array(TextSchema.min(1).max(200)).min(1).max(MAX_WORDS_PER_PART),
    })
    .strict(),
  "Part of a tenant's new sensitive-word list: words of one category.",
);

export const ContentFilterListReplaced = defineEvent(
  'content-filter',
  'moderation.list-replaced',
  1,
  z
    .object({
      listId: z.uuid(),
      /** How many `words-listed` events precede this one in the same append (0: the list is now empty). */
      parts: z.number().int().min(0),
      /** Words in the list, all parts together. */
      words: z.number().int().min(0),
      /** The action of each category: every category of the parts has one. */
      actions: z.record(FilterCategorySchema, FilterActionSchema),
    })
    .strict(),
  "A tenant's sensitive-word list was replaced by the parts just before this event.",
);

/**
 * A message matched the tenant's list. Never carries the words or the text: the category, the action
 * taken and how many matches, so logs, analytics and the audit log can show it safely.
 */
export const ContentFlagged = defineEvent(
  'conversation',
  'conversation.content-flagged',
  1,
  z
    .object({
      /** `inbound`: a customer message (`messageId`); `outbound`: a bot reply (`turnId`). */
      direction: z.enum(['inbound', 'outbound']),
      messageId: z.uuid().nullable(),
      turnId: z.uuid().nullable(),
      /**
       * `mask`: the message went on with the words masked; `block`: it was withheld (inbound: refused
       * with 422; outbound: the reply was replaced); `handoff`: withheld and the conversation went to a human.
       */
      action: FilterActionSchema,
      categories: z.array(FilterCategorySchema).min(1),
      matches: z.number().int().min(1),
    })
    .strict(),
  'A customer message or bot reply matched the tenant\u2019s sensitive-word list; the action taken.',
);
