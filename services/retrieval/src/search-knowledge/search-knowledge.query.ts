export type SearchMode = 'hybrid' | 'keyword' | 'vector';

export class SearchKnowledgeQuery {
  constructor(
    readonly tenantId: string,
    readonly text: string,
    /** How many citations to return (5 for a turn). */
    readonly topK: number = 5,
    /** `keyword` / `vector` answer from one retriever only (the evaluation compares them). */
    readonly mode: SearchMode = 'hybrid',
  ) {}
}
