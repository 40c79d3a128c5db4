import { AppError, KnowledgeSearchResultSchema, type KnowledgeSearchResult } from '@contracts';
import type { SearchKnowledgeInput } from './knowledge.schemas';

/**
 * Retrieval's internal search, seen from the gateway. Searching goes through retrieval rather than
 * reading the indexes here so there is one set of search clients, breakers and fusion weights (one
 * breaker state per backend, as `/readyz` shows it), and the gateway stays free of Elasticsearch,
 * Milvus and embeddings settings. Each backend call there is bounded by its 500 ms breaker timeout;
 * this bound only covers retrieval itself hanging.
 */
export class RetrievalSearchClient {
  static readonly TIMEOUT_MS = 5_000;

  constructor(private readonly baseUrl: string) {}

  async search(tenantId: string, input: SearchKnowledgeInput): Promise<KnowledgeSearchResult> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/$/, '')}/internal/knowledge/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId, ...input }),
        signal: AbortSignal.timeout(RetrievalSearchClient.TIMEOUT_MS),
      });
    } catch (error) {
      throw new AppError('dependency-unavailable', `retrieval is unreachable: ${describe(error)}`);
    }
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      throw new AppError('dependency-unavailable', `retrieval answered ${response.status}`, {
        retrievalProblem: body,
      });
    }
    const parsed = KnowledgeSearchResultSchema.safeParse(body);
    if (!parsed.success) throw new AppError('internal', `retrieval answered outside the contract`);
    return parsed.data;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
