/**
 * Fitting a reply prompt into the model's context window. Pure and deterministic: the same parts and
 * budget always give the same prompt, so the recorded reply request replays exactly.
 *
 * Counting. The bound is UTF-8 bytes, never a real tokenizer: the production and local models (Qwen2.5,
 * Llama 3) use byte-level BPE, which maps every pre-tokenized piece to one symbol per byte and then only
 * merges symbols, so a text never yields more tokens than it has bytes (a special token spelled in the
 * text, e.g. "<|im_end|>", is one token for ten bytes, fewer still). SentencePiece models with byte
 * fallback (Llama 2) hold too: a known character is one token of at most 4 bytes, an unknown one is one
 * token per byte; their dummy-prefix "▁" adds at most one token per text, covered by the per-message
 * allowance below. The chat template's own tokens (Qwen: <|im_start|>, role, newline, <|im_end|>,
 * newline = 5 per message; Llama 3: 5) and the generation prompt are covered by a fixed allowance.
 * Bytes overcount (about 3-4x for English, ~1x for Chinese), which trades context for a prompt that is
 * never sent to fail.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Template tokens allowed per message (role markers, separators, a SentencePiece dummy prefix). */
export const MESSAGE_OVERHEAD_TOKENS = 16;
/** Template tokens allowed once per prompt (BOS, the assistant header the server appends). */
export const PROMPT_OVERHEAD_TOKENS = 16;
/** Appended where a text was cut, so neither the model nor a reader takes it for the whole. */
export const TRUNCATION_MARKER = ' […truncated]';
/** What the latest message keeps at least, taken from the system content if nothing else is left. */
const MIN_LATEST_BYTES = 256;

export interface PromptParts {
  /** The tenant's instructions: always first and never reordered, so the server's prefix cache holds. */
  systemPrompt: string;
  /** Retrieved excerpts, best-ranked first, already numbered for citation ([1], [2], ...). */
  knowledge: readonly string[];
  /** Fixed lines after the knowledge (the request and its slots); kept while anything can be cut. */
  request: string | null;
  summary: string | null;
  /** The last system line (the reply language), kept. */
  closing: string | null;
  /** Earlier turns, oldest first, without the latest message. */
  history: readonly ChatMessage[];
  /** The customer's latest message: always sent, truncated with a marker only when alone too big. */
  latest: ChatMessage;
}

export interface FittedPrompt {
  messages: ChatMessage[];
  /** What was left out, for the record and the tests. */
  cut: {
    turns: number;
    knowledge: number;
    summary: boolean;
    latestTruncated: boolean;
    systemTruncated: boolean;
  };
}

/** The token bound of a text: its UTF-8 length (see the comment at the top). */
export function tokenBound(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The token bound of a whole chat prompt, template allowance included. */
export function promptBound(messages: readonly ChatMessage[]): number {
  return (
    PROMPT_OVERHEAD_TOKENS +
    messages.reduce((sum, message) => sum + MESSAGE_OVERHEAD_TOKENS + tokenBound(message.content), 0)
  );
}

/** The tokens a prompt may use: the context window less the reply's own tokens. */
export function promptBudget(contextTokens: number, maxTokens: number): number {
  return contextTokens - maxTokens;
}

/**
 * The prompt within `budget` tokens (by the bound). Cut order: the oldest turns first, then the
 * lowest-ranked excerpts, then the summary; the system prompt stays a stable prefix and the latest
 * message is never dropped. Throws only when the budget cannot hold even the template allowance.
 */
export function fitPrompt(parts: PromptParts, budget: number): FittedPrompt {
  const fixedOverhead = PROMPT_OVERHEAD_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS;
  if (budget < fixedOverhead + MIN_LATEST_BYTES) {
    throw new Error(`prompt budget ${budget} is below the minimum ${fixedOverhead + MIN_LATEST_BYTES}`);
  }
  let history = [...parts.history];
  let knowledge = [...parts.knowledge];
  let summary = parts.summary;
  const cut = { turns: 0, knowledge: 0, summary: false, latestTruncated: false, systemTruncated: false };
  const build = (system: string, latest: ChatMessage): ChatMessage[] => [
    { role: 'system', content: system },
    ...history,
    latest,
  ];
  const system = (): string => systemContent({ ...parts, knowledge, summary });

  while (promptBound(build(system(), parts.latest)) > budget) {
    if (history.length > 0) {
      history = history.slice(1);
      cut.turns += 1;
    } else if (knowledge.length > 0) {
      knowledge = knowledge.slice(0, -1);
      cut.knowledge += 1;
    } else if (summary !== null) {
      summary = null;
      cut.summary = true;
    } else {
      break;
    }
  }
  let systemText = system();
  let latest = parts.latest;
  const room = (): number => budget - fixedOverhead - tokenBound(systemText);
  if (tokenBound(latest.content) > room()) {
    // The system content alone leaves the latest message too little: it gives way, from its end.
    if (room() < MIN_LATEST_BYTES) {
      systemText = truncateUtf8(systemText, budget - fixedOverhead - MIN_LATEST_BYTES);
      cut.systemTruncated = true;
    }
    const content = truncateUtf8(latest.content, room());
    cut.latestTruncated = content !== latest.content;
    latest = { ...latest, content };
  }
  return { messages: build(systemText, latest), cut };
}

/** The system message: instructions, excerpts, request, summary and closing line, in that order. */
export function systemContent(parts: Omit<PromptParts, 'history' | 'latest'>): string {
  const lines = [parts.systemPrompt];
  if (parts.knowledge.length > 0) {
    lines.push(
      'Knowledge base excerpts; answer from them when they apply and cite each one you use as [n]:\n' +
        parts.knowledge.join('\n'),
    );
  }
  if (parts.request !== null) lines.push(parts.request);
  if (parts.summary !== null) lines.push(`Summary of the earlier conversation: ${parts.summary}`);
  if (parts.closing !== null) lines.push(parts.closing);
  return lines.join('\n\n');
}

/**
 * `text` within `maxBytes` UTF-8 bytes, marker included, cut on a code point boundary (never half a
 * character, which a server could reject as invalid UTF-8). Unchanged when it already fits.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (tokenBound(text) <= maxBytes) return text;
  const keep = maxBytes - tokenBound(TRUNCATION_MARKER);
  if (keep <= 0) return '';
  let used = 0;
  let end = 0;
  for (const char of text) {
    const size = tokenBound(char);
    if (used + size > keep) break;
    used += size;
    end += char.length;
  }
  return text.slice(0, end) + TRUNCATION_MARKER;
}
