import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  fromRow,
  SUMMARY_COLUMNS,
  type ConversationSummary,
  type SummaryRow,
} from '../conversation-summaries';
import type { ConversationFilter, Cursor } from './analytics-query';

/** Totals of one day (UTC, by start) and intent; a conversation counts under every intent it had. */
export interface DailyIntentAggregate {
  day: string;
  /** null: no intent was classified. */
  intent: string | null;
  conversations: number;
  resolved: number;
  handedOff: number;
  turnsCompleted: number;
  turnsFailed: number;
  intentFallbacks: number;
  avgLatencyMs: number | null;
  maxLatencyMs: number;
  promptTokens: number;
  completionTokens: number;
  retrievals: number;
  retrievalsDegraded: number;
}

/** One query for filters (nulls match everything) so every route filters the same way. */
const WHERE = `
  tenant_id = $1
  AND ($2::timestamptz IS NULL OR started_at >= $2)
  AND ($3::timestamptz IS NULL OR started_at < $3)
  AND ($4::text IS NULL OR intents @> ARRAY[$4::text])
  AND ($5::text IS NULL OR status = $5)
  AND ($6::text IS NULL OR closed_reason = $6)
  AND ($7::text IS NULL OR models @> ARRAY[$7::text])
  AND ($8::boolean IS NULL OR handed_off = $8)`;

function filterParams(tenantId: string, filter: ConversationFilter): unknown[] {
  return [
    tenantId,
    filter.from ?? null,
    filter.to ?? null,
    filter.intent ?? null,
    filter.status ?? null,
    filter.closedReason ?? null,
    filter.model ?? null,
    filter.handedOff ?? null,
  ];
}

/**
 * Reads the conversation summaries for analysts, always within one tenant. Pages are keyset pages on
 * (started_at, conversation_id), the table's index: a page costs the same at any depth, and an export
 * walks the whole range holding one page at a time.
 */
@Injectable()
export class ConversationAnalyticsRepository {
  constructor(@Inject(DataSource) private readonly db: Pick<DataSource, 'query'>) {}

  async page(
    tenantId: string,
    filter: ConversationFilter,
    limit: number,
    after?: Cursor,
  ): Promise<{ rows: ConversationSummary[]; next: Cursor | null }> {
    const rows: SummaryRow[] = await this.db.query(
      `SELECT ${SUMMARY_COLUMNS.join(', ')} FROM audit_conversation_summaries
        WHERE ${WHERE}
          AND ($9::timestamptz IS NULL OR (started_at, conversation_id) > ($9::timestamptz, $10::text))
        ORDER BY started_at, conversation_id
        LIMIT $11`,
      [...filterParams(tenantId, filter), after?.startedAt ?? null, after?.conversationId ?? null, limit],
    );
    const summaries = rows.map(fromRow);
    const last = summaries.at(-1);
    return {
      rows: summaries,
      next:
        last && summaries.length === limit
          ? { startedAt: last.startedAt, conversationId: last.conversationId }
          : null,
    };
  }

  /** Every matching summary, a page at a time, as the consumer pulls them (constant memory). */
  async *all(
    tenantId: string,
    filter: ConversationFilter,
    pageSize = 1000,
  ): AsyncGenerator<ConversationSummary> {
    let after: Cursor | undefined;
    for (;;) {
      const { rows, next } = await this.page(tenantId, filter, pageSize, after);
      yield* rows;
      if (!next) return;
      after = next;
    }
  }

  async aggregates(tenantId: string, filter: ConversationFilter): Promise<DailyIntentAggregate[]> {
    const rows: Record<string, string | number | null>[] = await this.db.query(
      `SELECT to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, i.intent,
              count(*)::int AS conversations,
              count(*) FILTER (WHERE s.closed_reason = 'resolved')::int AS resolved,
              count(*) FILTER (WHERE s.handed_off)::int AS handed_off,
              sum(s.turns_completed)::bigint AS turns_completed,
              sum(s.turns_failed)::bigint AS turns_failed,
              sum(s.intent_fallbacks)::bigint AS intent_fallbacks,
              round(sum(s.latency_total_ms)::numeric / NULLIF(sum(s.latency_turns), 0))::bigint AS avg_latency_ms,
              max(s.latency_max_ms)::bigint AS max_latency_ms,
              sum(s.prompt_tokens)::bigint AS prompt_tokens,
              sum(s.completion_tokens)::bigint AS completion_tokens,
              sum(s.retrievals)::bigint AS retrievals,
              sum(s.retrievals_degraded)::bigint AS retrievals_degraded
         FROM audit_conversation_summaries s
         CROSS JOIN LATERAL unnest(
           CASE WHEN cardinality(s.intents) = 0 THEN ARRAY[NULL::text] ELSE s.intents END
         ) AS i(intent)
        WHERE ${WHERE}
        GROUP BY 1, 2
        ORDER BY 1, 2 NULLS LAST`,
      filterParams(tenantId, filter),
    );
    return rows.map((row) => ({
      day: String(row.day),
      intent: row.intent === null ? null : String(row.intent),
      conversations: Number(row.conversations),
      resolved: Number(row.resolved),
      handedOff: Number(row.handed_off),
      turnsCompleted: Number(row.turns_completed),
      turnsFailed: Number(row.turns_failed),
      intentFallbacks: Number(row.intent_fallbacks),
      avgLatencyMs: row.avg_latency_ms === null ? null : Number(row.avg_latency_ms),
      maxLatencyMs: Number(row.max_latency_ms),
      promptTokens: Number(row.prompt_tokens),
      completionTokens: Number(row.completion_tokens),
      retrievals: Number(row.retrievals),
      retrievalsDegraded: Number(row.retrievals_degraded),
    }));
  }
}
