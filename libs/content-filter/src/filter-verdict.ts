import { strongestAction, type FilterMatch } from './content-filter';
import type { FilterAction } from './filter-entry';

/** What the matches of one message add up to, safe to record and log: no words, no offsets. */
export interface FilterVerdict {
  readonly action: FilterAction;
  /** Distinct categories, sorted. */
  readonly categories: string[];
  readonly matches: number;
}

/** The verdict over some matches, or null when there are none. */
export function verdictOf(matches: readonly FilterMatch[]): FilterVerdict | null {
  const action = strongestAction(matches);
  if (action === 'none') return null;
  const categories = [...new Set(matches.map((match) => match.category))].sort();
  return { action, categories, matches: matches.length };
}

/** What a customer gets instead of a bot reply the list blocks, or hands to a human. */
export const REPLACED_REPLY = {
  block: '抱歉，这个问题我无法在这里回答。Sorry, I can’t help with that here.',
  handoff: '正在为您转接人工客服，请稍候。Connecting you to one of our agents, please hold on.',
} as const;
