import type { SearchKnowledgeInput } from '../knowledge.schemas';

export class SearchKnowledgeQuery {
  constructor(
    readonly tenantId: string,
    readonly input: SearchKnowledgeInput,
  ) {}
}
