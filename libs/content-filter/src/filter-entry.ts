import { ContentFilterError } from './content-filter.error';

/** What a match does to the message, weakest first (see ACTION_SEVERITY). */
export const FILTER_ACTIONS = ['mask', 'block', 'handoff'] as const;
export type FilterAction = (typeof FILTER_ACTIONS)[number];

/**
 * `handoff` is the strongest: the message is withheld as with `block`, and a human takes the
 * conversation over, so a message that both blocks and hands off must hand off.
 */
export const ACTION_SEVERITY: Readonly<Record<FilterAction, number>> = { mask: 1, block: 2, handoff: 3 };

export const KNOWN_CATEGORIES = ['contact-diversion', 'abuse', 'politics', 'fraud', 'competitor'] as const;
export type KnownCategory = (typeof KNOWN_CATEGORIES)[number];
/** A known category or a tenant's own (`custom-...` by convention), kebab-case. */
export type FilterCategory = KnownCategory | (string & {});

export interface FilterEntry {
  readonly word: string;
  readonly category: FilterCategory;
}

/** The action each category takes; a tenant's list may override any of them and add its own. */
export type CategoryActions = Readonly<Record<string, FilterAction>>;

export const DEFAULT_CATEGORY_ACTIONS: CategoryActions = {
  'contact-diversion': 'mask',
  abuse: 'mask',
  politics: 'block',
  fraud: 'handoff',
  competitor: 'mask',
};

const CATEGORY_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

export function strongerAction(a: FilterAction | 'none', b: FilterAction): FilterAction {
  return a === 'none' || ACTION_SEVERITY[b] > ACTION_SEVERITY[a] ? b : a;
}

/** Checks a category name and resolves its action; errors name the category, never a word. */
export function actionOf(category: string, actions: CategoryActions): FilterAction {
  if (!CATEGORY_PATTERN.test(category)) {
    throw new ContentFilterError('category-invalid', 'a category is kebab-case, 1 to 64 characters', {
      category: category.slice(0, 64),
    });
  }
  const action = actions[category];
  if (action === undefined) {
    throw new ContentFilterError('category-without-action', `category ${category} has no action`, {
      category,
    });
  }
  if (!FILTER_ACTIONS.includes(action)) {
    throw new ContentFilterError('action-invalid', `category ${category} has an unknown action`, {
      category,
    });
  }
  return action;
}
