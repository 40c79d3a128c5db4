import { maskSpans, strongestAction, type ContentFilter, type FilterMatch } from './content-filter';
import { strongerAction, type FilterAction } from './filter-entry';

export interface StreamRelease {
  /** Text now safe to send on, masked. Empty once the stream has blocked. */
  readonly text: string;
  /** Matches found in this release, offsets counted from the start of the whole stream. */
  readonly matches: readonly FilterMatch[];
  /** The strongest action over the whole stream so far. */
  readonly action: FilterAction | 'none';
}

/** A kept character and the separators after it is all the context a match needs; longer runs are cut. */
const MAX_CONTEXT = 32;

/**
 * Filters a reply while it streams. Each chunk is scanned together with what is still held back, and
 * text is released only up to where no listed word could still be completed by later chunks: the
 * automaton's depth after the last character says how far back a pending match may start, so at most
 * the longest word's length (plus the separators inside it) waits, and ordinary text flows through
 * almost at once. A word split across chunks ("微" + " 信") is found and masked before any of it leaves.
 *
 * Once a `block` or `handoff` match is found the stream releases nothing more, that chunk's text
 * included: the caller replaces the reply. The stream keeps the filter it was opened with, so a list
 * replaced mid-reply applies from the next reply on.
 */
export class FilterStream {
  /** Released text kept as left context for the Latin word-boundary rules; never released again. */
  private context = '';
  private held = '';
  /** Stream offset of `held`'s first character. */
  private offset = 0;
  private action: FilterAction | 'none' = 'none';
  private ended = false;

  constructor(private readonly filter: ContentFilter) {}

  get blocked(): boolean {
    return this.action === 'block' || this.action === 'handoff';
  }

  write(chunk: string): StreamRelease {
    if (this.ended) throw new Error('write after end');
    this.held += chunk;
    return this.release(false);
  }

  /** Releases whatever is still held: the stream is over, so nothing can extend it. */
  end(): StreamRelease {
    if (this.ended) return { text: '', matches: [], action: this.action };
    this.ended = true;
    return this.release(true);
  }

  private release(final: boolean): StreamRelease {
    if (this.blocked) return { text: '', matches: [], action: this.action };
    const text = this.context + this.held;
    const skip = this.context.length;
    const located = this.filter.locate(text, final);
    const released = located.matches.filter((match) => match.start >= skip && match.end <= located.holdFrom);
    const matches = released.map((match) => ({
      ...match,
      start: match.start - skip + this.offset,
      end: match.end - skip + this.offset,
    }));
    this.action = strongerActionOf(this.action, strongestAction(released));
    const holdFrom = Math.max(located.holdFrom, skip);
    const out = this.blocked ? '' : maskSpans(text, released).slice(skip, holdFrom);
    this.offset += holdFrom - skip;
    this.held = text.slice(holdFrom);
    this.context = contextOf(text.slice(Math.min(located.contextFrom, holdFrom), holdFrom));
    return { text: out, matches, action: this.action };
  }
}

function strongerActionOf(a: FilterAction | 'none', b: FilterAction | 'none'): FilterAction | 'none' {
  return b === 'none' ? a : strongerAction(a, b);
}

function contextOf(tail: string): string {
  if (tail.length <= MAX_CONTEXT) return tail;
  const width = tail.codePointAt(0)! > 0xffff ? 2 : 1;
  return tail.slice(0, width) + (/[\s\p{Z}]/u.test(tail.slice(width)) ? ' ' : '.');
}
