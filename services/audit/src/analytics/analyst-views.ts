import { averageLatencyMs, type ConversationSummary } from '../conversation-summaries';

/**
 * A conversation as analysts see it: the summary without the projection's bookkeeping. It holds no
 * customer text (slot names, never their values), so lists and exports need no redaction; the texts
 * are in replays, which redact them.
 */
export interface AnalystConversation {
  conversationId: string;
  status: 'open' | 'closed';
  closedReason: string | null;
  channel: string;
  locale: string | null;
  configVersion: number;
  startedAt: string;
  lastActivityAt: string;
  messages: number;
  turnsCompleted: number;
  turnsFailed: number;
  intent: string | null;
  intents: string[];
  intentFallbacks: number;
  slotsFilled: string[];
  handedOff: boolean;
  handoffReason: string | null;
  models: string[];
  promptTokens: number;
  completionTokens: number;
  latencyTurns: number;
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
  retrievals: number;
  retrievalsDegraded: number;
  /** Events folded in so far (the stream's version). */
  version: number;
}

export function toAnalystConversation(summary: ConversationSummary): AnalystConversation {
  return {
    conversationId: summary.conversationId,
    status: summary.status,
    closedReason: summary.closedReason,
    channel: summary.channel,
    locale: summary.locale,
    configVersion: summary.configVersion,
    startedAt: summary.startedAt,
    lastActivityAt: summary.lastActivityAt,
    messages: summary.messages,
    turnsCompleted: summary.turnsCompleted,
    turnsFailed: summary.turnsFailed,
    intent: summary.intent,
    intents: summary.intents,
    intentFallbacks: summary.intentFallbacks,
    slotsFilled: summary.slotsFilled,
    handedOff: summary.handedOff,
    handoffReason: summary.handoffReason,
    models: summary.models,
    promptTokens: summary.promptTokens,
    completionTokens: summary.completionTokens,
    latencyTurns: summary.latencyTurns,
    avgLatencyMs: averageLatencyMs(summary),
    maxLatencyMs: summary.latencyTurns === 0 ? null : summary.latencyMaxMs,
    retrievals: summary.retrievals,
    retrievalsDegraded: summary.retrievalsDegraded,
    version: summary.lastSequence,
  };
}

/** Every field once (the compiler checks), in the order of the CSV's columns. */
const CSV_FIELDS: Record<keyof AnalystConversation, true> = {
  conversationId: true,
  status: true,
  closedReason: true,
  channel: true,
  locale: true,
  configVersion: true,
  startedAt: true,
  lastActivityAt: true,
  messages: true,
  turnsCompleted: true,
  turnsFailed: true,
  intent: true,
  intents: true,
  intentFallbacks: true,
  slotsFilled: true,
  handedOff: true,
  handoffReason: true,
  models: true,
  promptTokens: true,
  completionTokens: true,
  latencyTurns: true,
  avgLatencyMs: true,
  maxLatencyMs: true,
  retrievals: true,
  retrievalsDegraded: true,
  version: true,
};
export const CSV_COLUMNS = Object.keys(CSV_FIELDS) as (keyof AnalystConversation)[];

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** RFC 4180 (CRLF, quotes doubled); lists joined by `|`; a text cell that a spreadsheet would run as a formula is quoted with a leading `'`. */
export function csvLine(row: AnalystConversation): string {
  return `${CSV_COLUMNS.map((column) => csvCell(row[column])).join(',')}\r\n`;
}

function csvCell(value: AnalystConversation[keyof AnalystConversation]): string {
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = Array.isArray(value) ? value.join('|') : value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
