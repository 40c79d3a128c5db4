import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { z } from 'zod';
import { AppError, TenantIdSchema, TextSchema } from '@contracts';
import { SearchKnowledgeHandler, type KnowledgeSearchResult } from './search-knowledge.handler';
import { SearchKnowledgeQuery } from './search-knowledge.query';

export const InternalSearchBody = z
  .object({
    tenantId: TenantIdSchema,
    query: TextSchema.min(1).max(4_000),
    topK: z.number().int().min(1).max(10).default(5),
    mode: z.enum(['hybrid', 'keyword', 'vector']).default('hybrid'),
  })
  .strict();

/**
 * The search the gateway's `/v1/knowledge/search` forwards to, for agents and tests. Internal: the
 * tenant comes from the gateway, which took it from the API key; never expose this port publicly.
 */
@Controller('internal/knowledge')
export class SearchController {
  constructor(@Inject(SearchKnowledgeHandler) private readonly search: SearchKnowledgeHandler) {}

  @Post('search')
  @HttpCode(200)
  async find(@Body() body: unknown): Promise<KnowledgeSearchResult> {
    const parsed = InternalSearchBody.safeParse(body);
    if (!parsed.success) throw new AppError('validation-failed', z.prettifyError(parsed.error));
    const { tenantId, query, topK, mode } = parsed.data;
    return this.search.execute(new SearchKnowledgeQuery(tenantId, query, topK, mode));
  }
}
