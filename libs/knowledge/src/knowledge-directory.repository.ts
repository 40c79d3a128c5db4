import type { DataSource } from 'typeorm';
import { KNOWLEDGE_DOCUMENT_STREAM_PREFIX } from '@contracts';
import { documentIdOf } from './knowledge-document';

/**
 * The document ids a tenant has streams for, in id order, a page at a time: the streams table already
 * names every stream with its kind, so listing needs no projection of its own. Deleted documents keep
 * their stream; the caller folds each and skips them.
 */
export class KnowledgeDirectoryRepository {
  constructor(private readonly db: DataSource) {}

  async documentIds(tenantId: string, after: string | null, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ stream_id: string }[]>(
      `SELECT stream_id FROM streams
        WHERE tenant_id = $1 AND kind = 'knowledge-document' AND stream_id > $2
        ORDER BY stream_id
        LIMIT $3`,
      [tenantId, `${KNOWLEDGE_DOCUMENT_STREAM_PREFIX}${after ?? ''}`, limit],
    );
    return rows.map((row) => documentIdOf(row.stream_id));
  }
}
