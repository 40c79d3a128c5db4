/**
 * Chunking for retrieval: sentences are never cut (unless one alone is longer than a chunk), Chinese
 * and English alike, and consecutive chunks of a section share their boundary sentences (overlap) so an
 * answer that straddles two chunks is whole in at least one. Pure: the same text always gives the same
 * chunks, which is what makes chunk ids derived from their position stable across restarts.
 */

export interface ChunkingOptions {
  /** Longest chunk in characters (a CJK character is about one model token; English about a quarter). */
  maxChars: number;
  /** Characters of trailing sentences the next chunk repeats; at most half of maxChars. */
  overlapChars: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { maxChars: 400, overlapChars: 80 };

/** A part of a document a chunk never crosses: a heading's section, a sheet row, a PDF page. */
export interface Section {
  heading: string | null;
  text: string;
}

export interface Chunk {
  /** 0-based position in the document: with the document and revision, the chunk's identity. */
  index: number;
  /** 0-based position of the section it came from. */
  sectionIndex: number;
  heading: string | null;
  text: string;
}

// A sentence ends at a Chinese full stop, question or exclamation mark, or semicolon (with any closing
// quotes or brackets after it), or at . ! ? ; followed by white space, or at a line break.
const SENTENCE_END = /([。！？；!?;…]+[”’」』）)\]"']*|[.](?=\s)[”’"')\]]*)(\s*)|\n+/gu;

/** Splits text into sentences, each keeping its punctuation; empty pieces are dropped. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of text.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    pushTrimmed(sentences, text.slice(start, end));
    start = end;
  }
  pushTrimmed(sentences, text.slice(start));
  return sentences;
}

function pushTrimmed(into: string[], piece: string): void {
  const trimmed = piece.replace(/\s+/gu, ' ').trim();
  if (trimmed.length > 0) into.push(trimmed);
}

/** Joins sentences the way they were written: no space between CJK sentences, one between others. */
function join(left: string, right: string): string {
  if (left.length === 0) return right;
  return isCjk(left.at(-1)!) || isCjk(right[0]!) ? `${left}${right}` : `${left} ${right}`;
}

function isCjk(char: string): boolean {
  return /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u.test(
    char,
  );
}

/** A sentence longer than a chunk is cut into pieces of maxChars, the only place a sentence is cut. */
function boundedPieces(sentence: string, maxChars: number): string[] {
  if (sentence.length <= maxChars) return [sentence];
  const pieces: string[] = [];
  const chars = Array.from(sentence);
  for (let at = 0; at < chars.length; at += maxChars) pieces.push(chars.slice(at, at + maxChars).join(''));
  return pieces;
}

/** Packs one section's sentences into chunks of at most maxChars, repeating up to overlapChars. */
export function chunkText(text: string, options: ChunkingOptions = DEFAULT_CHUNKING): string[] {
  const overlap = Math.min(options.overlapChars, Math.floor(options.maxChars / 2));
  const sentences = splitSentences(text).flatMap((sentence) => boundedPieces(sentence, options.maxChars));
  const chunks: string[] = [];
  let current: string[] = [];
  const length = (parts: string[]) => parts.reduce(join, '').length;
  for (const sentence of sentences) {
    if (current.length > 0 && length([...current, sentence]) > options.maxChars) {
      chunks.push(current.reduce(join, ''));
      current = tail(current, overlap);
      while (current.length > 0 && length([...current, sentence]) > options.maxChars) current.shift();
    }
    current.push(sentence);
  }
  if (current.length > 0) chunks.push(current.reduce(join, ''));
  return chunks;
}

/** The last sentences whose joined length stays within `chars`. */
function tail(sentences: string[], chars: number): string[] {
  const kept: string[] = [];
  for (let i = sentences.length - 1; i >= 0; i--) {
    const candidate = [sentences[i]!, ...kept];
    if (candidate.reduce(join, '').length > chars) break;
    kept.unshift(sentences[i]!);
  }
  return kept;
}

/** Chunks a whole document, section by section, numbering chunks across it. */
export function chunkDocument(
  sections: readonly Section[],
  options: ChunkingOptions = DEFAULT_CHUNKING,
): Chunk[] {
  const chunks: Chunk[] = [];
  sections.forEach((section, sectionIndex) => {
    for (const text of chunkText(section.text, options)) {
      chunks.push({ index: chunks.length, sectionIndex, heading: section.heading, text });
    }
  });
  return chunks;
}
