import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Projection, RecordedEvent } from '@libs/event-store';
import { summarize, type ConversationSummary } from './conversation-summary';

interface SummaryRow {
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
  last_sequence: string;
}

const COLUMNS = [
  'tenant_id',
  'conversation_id',
  'status',
  'channel',
  'locale',
  'config_version',
  'started_at',
  'last_activity_at',
  'messages',
  'turns_completed',
  'turns_failed',
  'prompt_tokens',
  'completion_tokens',
  'closed_reason',
  'last_sequence',
] as const;
const TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'bigint',
  'timestamptz',
  'timestamptz',
  'int',
  'int',
  'int',
  'bigint',
  'bigint',
  'text',
  'bigint',
];

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
      `SELECT ${COLUMNS.join(', ')} FROM audit_conversation_summaries
        WHERE (tenant_id, conversation_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [refs.map((ref) => ref.tenantId), refs.map((ref) => ref.conversationId)],
    );
    return new Map(rows.map((row) => [key(row.tenant_id, row.conversation_id), fromRow(row)]));
  }

  private async save(tx: EntityManager, summaries: ConversationSummary[]): Promise<void> {
    if (summaries.length === 0) return;
    const values = summaries.map(toValues);
    const columns = COLUMNS.map((_, index) => values.map((row) => row[index]));
    await tx.query(
      `INSERT INTO audit_conversation_summaries (${COLUMNS.join(', ')})
       SELECT * FROM unnest(${TYPES.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})
       ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
         ${COLUMNS.slice(2)
           .map((column) => `${column} = EXCLUDED.${column}`)
           .join(', ')}`,
      columns,
    );
  }
}

function key(tenantId: string, conversationId: string): string {
  return `${tenantId}\u0000${conversationId}`;
}

function toValues(summary: ConversationSummary): unknown[] {
  return [
    summary.tenantId,
    summary.conversationId,
    summary.status,
    summary.channel,
    summary.locale,
    summary.configVersion,
    summary.startedAt,
    summary.lastActivityAt,
    summary.messages,
    summary.turnsCompleted,
    summary.turnsFailed,
    summary.promptTokens,
    summary.completionTokens,
    summary.closedReason,
    summary.lastSequence,
  ];
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
    lastSequence: Number(row.last_sequence),
  };
}
