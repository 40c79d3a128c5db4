import { Inject, Injectable } from '@nestjs/common';
import type { KnowledgeSearchResult } from '@contracts';
import { RetrievalSearchClient } from '../retrieval-search.client';
import type { SearchKnowledgeQuery } from './search-knowledge.query';

/** The tenant's knowledge base searched as a customer message would be, with the tenant from the key. */
@Injectable()
export class SearchKnowledgeHandler {
  constructor(@Inject(RetrievalSearchClient) private readonly retrieval: RetrievalSearchClient) {}

  execute({ tenantId, input }: SearchKnowledgeQuery): Promise<KnowledgeSearchResult> {
    return this.retrieval.search(tenantId, input);
  }
}
