import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Projection, RecordedEvent } from '@libs/event-store';
import { summarize, type ConversationSummary, type PendingTurns } from './conversation-summary';

export interface SummaryRow {
  tenant_id: string;
  conversation_id: string;
  status: 'open' | 'closed';
  channel: string;
  locale: string | null;
  config_version: string;
  started_at: Date;
  last_activity_at: Date;
  messages: number;
  turns_completed: number;
  turns_failed: number;
  prompt_tokens: string;
  completion_tokens: string;
  closed_reason: string | null;
  intent: string | null;
  intents: string[];
  intent_fallbacks: number;
  slots_filled: string[];
  handed_off: boolean;
  handoff_reason: string | null;
  models: string[];
  latency_turns: number;
  latency_total_ms: string;
  latency_max_ms: string;
  retrievals: number;
  retrievals_degraded: number;
  pending: PendingTurns;
  last_sequence: string;
}

/**
 * Each column with the array type its values are sent in (one `unnest` per batch). Arrays of text
 * travel as JSON, since `unnest` would flatten a two-dimensional array.
 */
const COLUMN_TYPES: Record<keyof SummaryRow, string> = {
  tenant_id: 'text',
  conversation_id: 'text',
  status: 'text',
  channel: 'text',
  locale: 'text',
  config_version: 'bigint',
  started_at: 'timestamptz',
  last_activity_at: 'timestamptz',
  messages: 'int',
  turns_completed: 'int',
  turns_failed: 'int',
  prompt_tokens: 'bigint',
  completion_tokens: 'bigint',
  closed_reason: 'text',
  intent: 'text',
  intents: 'text[]',
  intent_fallbacks: 'int',
  slots_filled: 'text[]',
  handed_off: 'boolean',
  handoff_reason: 'text',
  models: 'text[]',
  latency_turns: 'int',
  latency_total_ms: 'bigint',
  latency_max_ms: 'bigint',
  retrievals: 'int',
  retrievals_degraded: 'int',
  pending: 'jsonb',
  last_sequence: 'bigint',
};
export const SUMMARY_COLUMNS = Object.keys(COLUMN_TYPES) as (keyof SummaryRow)[];

const UPSERT = `
  INSERT INTO audit_conversation_summaries (${SUMMARY_COLUMNS.join(', ')})
  SELECT ${SUMMARY_COLUMNS.map((column) =>
    COLUMN_TYPES[column] === 'text[]'
      ? `ARRAY(SELECT jsonb_array_elements_text(u.${column}))`
      : `u.${column}`,
  ).join(', ')}
    FROM unnest(${SUMMARY_COLUMNS.map((column, index) => `$${index + 1}::${COLUMN_TYPES[column] === 'text[]' ? 'jsonb' : COLUMN_TYPES[column]}[]`).join(', ')})
      AS u(${SUMMARY_COLUMNS.join(', ')})
  ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
    ${SUMMARY_COLUMNS.slice(2)
      .map((column) => `${column} = EXCLUDED.${column}`)
      .join(', ')}`;

/**
 * Conversation summaries for analysts, kept by folding read-all (`summarize`) into
 * `audit_conversation_summaries`: one read and one upsert per batch, in the batch's transaction.
 */
@Injectable()
export class ConversationSummaryProjection implements Projection {
  readonly name = 'audit.conversation-summaries';

  async apply(events: readonly RecordedEvent[], tx: EntityManager): Promise<void> {
    const keys = new Map<string, { tenantId: string; conversationId: string }>();
    for (const { event } of events) {
      if ('conversationId' in event) keys.set(key(event.tenantId, event.conversationId), event);
    }
    if (keys.size === 0) return;
    const summaries = await this.load(tx, [...keys.values()]);
    const changed = new Set<string>();
    for (const { event } of events) {
      if (!('conversationId' in event)) continue;
      const id = key(event.tenantId, event.conversationId);
      const before = summaries.get(id);
      const after = summarize(before, event);
      if (after && after !== before) {
        summaries.set(id, after);
        changed.add(id);
      }
    }
    await this.save(
      tx,
      [...changed].map((id) => summaries.get(id) as ConversationSummary),
    );
  }

  async reset(tx: EntityManager): Promise<void> {
    await tx.query('DELETE FROM audit_conversation_summaries');
  }

  private async load(
    tx: EntityManager,
    refs: { tenantId: string; conversationId: string }[],
  ): Promise<Map<string, ConversationSummary>> {
    const rows: SummaryRow[] = await tx.query(
      `SELECT ${SUMMARY_COLUMNS.join(', ')} FROM audit_conversation_summaries
        WHERE (tenant_id, conversation_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [refs.map((ref) => ref.tenantId), refs.map((ref) => ref.conversationId)],
    );
    return new Map(rows.map((row) => [key(row.tenant_id, row.conversation_id), fromRow(row)]));
  }

  private async save(tx: EntityManager, summaries: ConversationSummary[]): Promise<void> {
    if (summaries.length === 0) return;
    const rows = summaries.map(toRow);
    const columns = SUMMARY_COLUMNS.map((column) =>
      rows.map((row) => {
        const value = row[column];
        return COLUMN_TYPES[column] === 'text[]' || COLUMN_TYPES[column] === 'jsonb'
          ? JSON.stringify(value)
          : value;
      }),
    );
    await tx.query(UPSERT, columns);
  }
}

function key(tenantId: string, conversationId: string): string {
  return `${tenantId}\u0000${conversationId}`;
}

function toRow(summary: ConversationSummary): Record<keyof SummaryRow, unknown> {
  return {
    tenant_id: summary.tenantId,
    conversation_id: summary.conversationId,
    status: summary.status,
    channel: summary.channel,
    locale: summary.locale,
    config_version: summary.configVersion,
    started_at: summary.startedAt,
    last_activity_at: summary.lastActivityAt,
    messages: summary.messages,
    turns_completed: summary.turnsCompleted,
    turns_failed: summary.turnsFailed,
    prompt_tokens: summary.promptTokens,
    completion_tokens: summary.completionTokens,
    closed_reason: summary.closedReason,
    intent: summary.intent,
    intents: summary.intents,
    intent_fallbacks: summary.intentFallbacks,
    slots_filled: summary.slotsFilled,
    handed_off: summary.handedOff,
    handoff_reason: summary.handoffReason,
    models: summary.models,
    latency_turns: summary.latencyTurns,
    latency_total_ms: summary.latencyTotalMs,
    latency_max_ms: summary.latencyMaxMs,
    retrievals: summary.retrievals,
    retrievals_degraded: summary.retrievalsDegraded,
    pending: summary.pending,
    last_sequence: summary.lastSequence,
  };
}

export function fromRow(row: SummaryRow): ConversationSummary {
  return {
    tenantId: row.tenant_id,
    conversationId: row.conversation_id,
    status: row.status,
    channel: row.channel,
    locale: row.locale,
    configVersion: Number(row.config_version),
    startedAt: row.started_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
    messages: row.messages,
    turnsCompleted: row.turns_completed,
    turnsFailed: row.turns_failed,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    closedReason: row.closed_reason,
    intent: row.intent,
    intents: row.intents,
    intentFallbacks: row.intent_fallbacks,
    slotsFilled: row.slots_filled,
    handedOff: row.handed_off,
    handoffReason: row.handoff_reason,
    models: row.models,
    latencyTurns: row.latency_turns,
    latencyTotalMs: Number(row.latency_total_ms),
    latencyMaxMs: Number(row.latency_max_ms),
    retrievals: row.retrievals,
    retrievalsDegraded: row.retrievals_degraded,
    // jsonb keeps its own key order; the fold's order, so a row and a fold compare equal as JSON too.
    pending: { messages: row.pending.messages, turns: row.pending.turns },
    lastSequence: Number(row.last_sequence),
  };
}
