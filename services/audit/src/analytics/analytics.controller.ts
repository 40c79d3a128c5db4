import { Controller, Get, Inject, Param, Query, StreamableFile, UseGuards } from '@nestjs/common';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError } from '@contracts';
import { EventStore, type Principal } from '@libs/event-store';
import { AccessLog, ApiKeyGuard, CurrentPrincipal, Roles } from '@libs/platform';
import { parseInput } from '../http/parse-input';
import {
  ConversationFilterSchema,
  ExportQuerySchema,
  ListQuerySchema,
  ReplayQuerySchema,
  decodeCursor,
  encodeCursor,
} from './analytics-query';
import { csvHeader, csvLine, toAnalystConversation, type AnalystConversation } from './analyst-views';
import {
  ConversationAnalyticsRepository,
  type DailyIntentAggregate,
} from './conversation-analytics.repository';
import { replayConversation, type ConversationReplay } from './conversation-replay';

const REPLAY_ROUTE = '/v1/analytics/conversations/:conversationId/replay';

/**
 * Analytics for analysts (and compliance and admin keys): conversations found by time, intent,
 * outcome, model and handoff; totals per day and intent; a step-by-step replay; streamed exports.
 * Always the key's tenant. Personal data is redacted; only a compliance key may ask a replay for the
 * raw text, and that read is logged in the tenant's audit log.
 */
@Controller('v1/analytics')
@UseGuards(ApiKeyGuard)
@Roles('analyst', 'compliance', 'admin')
export class AnalyticsController {
  constructor(
    @Inject(ConversationAnalyticsRepository) private readonly summaries: ConversationAnalyticsRepository,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(AccessLog) private readonly accessLog: AccessLog,
  ) {}

  /** A page of conversations in start order; pass `nextCursor` as `after` for the next one. */
  @Get('conversations')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
  ): Promise<{ conversations: AnalystConversation[]; nextCursor: string | null }> {
    const { limit, after, ...filter } = parseInput(ListQuerySchema, query);
    const page = await this.summaries.page(
      principal.tenant.id,
      filter,
      limit,
      after === undefined ? undefined : decodeCursor(after),
    );
    return {
      conversations: page.rows.map(toAnalystConversation),
      nextCursor: page.next && encodeCursor(page.next),
    };
  }

  /** Totals per day (UTC, by start) and intent over the filtered conversations. */
  @Get('aggregates')
  async aggregates(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
  ): Promise<{ aggregates: DailyIntentAggregate[] }> {
    const filter = parseInput(ConversationFilterSchema, query);
    return { aggregates: await this.summaries.aggregates(principal.tenant.id, filter) };
  }

  /** The conversation's events, each with the state after it, folded by the services' own machine. */
  @Get('conversations/:conversationId/replay')
  async replay(
    @CurrentPrincipal() principal: Principal,
    @Param('conversationId') conversationId: string,
    @Query() query: unknown,
  ): Promise<ConversationReplay> {
    const { raw } = parseInput(ReplayQuerySchema, query);
    if (raw && principal.role !== 'compliance') {
      await this.accessLog.denied(principal, 'GET', `${REPLAY_ROUTE}?raw=true`, ['compliance']);
      throw new AppError('forbidden', 'raw (unredacted) replays need a compliance key', {
        role: principal.role,
        allowed: ['compliance'],
      });
    }
    if (!z.uuid().safeParse(conversationId).success) throw new AppError('conversation-not-found');
    const events = await this.store.read('conversation', {
      tenantId: principal.tenant.id,
      streamId: conversationId,
    });
    if (events.length === 0) throw new AppError('conversation-not-found');
    if (raw) await this.accessLog.rawDataRead(principal, REPLAY_ROUTE, { conversationId });
    return replayConversation(events, { raw });
  }

  /**
   * Every filtered conversation as CSV or JSONL, streamed a page at a time: memory stays flat however
   * large the range. The rows hold no customer text (see AnalystConversation).
   */
  @Get('export')
  exportConversations(@CurrentPrincipal() principal: Principal, @Query() query: unknown): StreamableFile {
    const { format, ...filter } = parseInput(ExportQuerySchema, query);
    const lines = exportLines(this.summaries.all(principal.tenant.id, filter), format);
    return new StreamableFile(Readable.from(lines), {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      disposition: `attachment; filename="conversations.${format}"`,
    });
  }
}

/** The export's text, a line per conversation, produced only as fast as the client reads it. */
export async function* exportLines(
  summaries: AsyncIterable<Parameters<typeof toAnalystConversation>[0]>,
  format: 'csv' | 'jsonl',
): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader();
  for await (const summary of summaries) {
    const row = toAnalystConversation(summary);
    yield format === 'csv' ? csvLine(row) : `${JSON.stringify(row)}\n`;
  }
}
