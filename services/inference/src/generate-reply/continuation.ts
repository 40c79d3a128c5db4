import type { ChatMessage } from '../llm.client';

/** Asked of the backend that takes over a reply another backend left unfinished. */
export const CONTINUE_INSTRUCTION =
  'Continue your previous reply exactly where it stopped, mid-sentence if need be. ' +
  'Do not repeat any of it and do not comment: write only the rest.';

/**
 * The prompt that continues a half-delivered reply: the original prompt, the text the customer has
 * already seen as the assistant's turn, and the instruction. Plain chat messages, so any
 * OpenAI-compatible API understands it (assistant prefill is not portable).
 */
export function continuationPrompt(prompt: readonly ChatMessage[], delivered: string): ChatMessage[] {
  return [
    ...prompt,
    { role: 'assistant', content: delivered },
    { role: 'user', content: CONTINUE_INSTRUCTION },
  ];
}

/** Words models put before restating a reply they were asked to continue ("Sure, I'm sorry for..."). */
const PREAMBLES = ['sure', 'ok', 'okay', 'certainly', 'of course', '好的', '当然'];
const PREAMBLE = /^\s*(sure|ok|okay|certainly|of course|好的|当然)[\s,.!:，。！：]*/i;

/** Shorter overlaps than this are taken as coincidence ("。", " the"), not as repetition. */
const MIN_OVERLAP = 5;
/** How much of the delivered text's end a continuation may repeat and still be trimmed. */
const TAIL = 200;

/**
 * Keeps a continuation from repeating what the customer already saw. Models asked to continue often
 * restate the whole reply, or its last words, before going on: the start of the continuation is held
 * back while it could still be such a repeat, then the repeated part is dropped. Pure.
 */
export class RepeatTrimmer {
  private held = '';
  private decided = false;
  private readonly tail: string;

  constructor(private readonly delivered: string) {
    this.tail = delivered.slice(-TAIL);
  }

  /** Adds continuation text; returns what may be delivered now (possibly ''). */
  push(text: string): string {
    if (this.decided) return text;
    this.held += text;
    if (this.mayStillRepeat()) return '';
    return this.release();
  }

  /** The continuation ended: whatever was held, minus a repeat. */
  end(): string {
    return this.decided ? '' : this.release();
  }

  private mayStillRepeat(): boolean {
    const { held, delivered, tail } = this;
    if (delivered.length === 0) return false;
    // Restating from the beginning: hold until it diverges or covers everything delivered.
    if (held.length < delivered.length && delivered.startsWith(held)) return true;
    // ... possibly after a preamble, which may itself still be arriving.
    const start = held.trimStart().toLowerCase();
    if (PREAMBLES.some((word) => word.startsWith(start) && !delivered.toLowerCase().startsWith(start)))
      return true;
    const body = held.replace(PREAMBLE, '');
    if (body !== held && body.length < delivered.length && delivered.startsWith(body)) return true;
    // Restating the last words: held is the start of a longer suffix of the tail.
    for (let start = Math.max(0, tail.length - TAIL); start < tail.length - held.length; start++) {
      if (tail.startsWith(held, start)) return true;
    }
    return false;
  }

  private release(): string {
    this.decided = true;
    const { held, delivered } = this;
    this.held = '';
    if (delivered.length > 0 && held.startsWith(delivered)) return held.slice(delivered.length);
    const body = held.replace(PREAMBLE, '');
    if (delivered.length > 0 && body !== held && body.startsWith(delivered))
      return body.slice(delivered.length);
    for (let overlap = Math.min(held.length, this.tail.length); overlap >= MIN_OVERLAP; overlap--) {
      if (delivered.endsWith(held.slice(0, overlap))) return held.slice(overlap);
    }
    return held;
  }
}
