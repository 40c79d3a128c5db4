import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RevisionRef {
  tenantId: string;
  documentId: string;
  revision: number;
}

/**
 * How many chunks of a revision are in both indexes. Written after each batch lands in both, so a
 * restarted service resumes after the last whole batch; the batch it redoes writes the same chunk ids.
 */
@Injectable()
export class IndexingCheckpoints {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async indexed(ref: RevisionRef): Promise<number> {
    const rows = await this.db.query<{ chunks_indexed: number }[]>(
      `SELECT chunks_indexed FROM retrieval_indexing_checkpoints
        WHERE tenant_id = $1 AND document_id = $2 AND revision = $3`,
      [ref.tenantId, ref.documentId, ref.revision],
    );
    return rows[0]?.chunks_indexed ?? 0;
  }

  async save(ref: RevisionRef, chunksIndexed: number, chunksTotal: number): Promise<void> {
    await this.db.query(
      `INSERT INTO retrieval_indexing_checkpoints (tenant_id, document_id, revision, chunks_total, chunks_indexed)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, document_id, revision)
       DO UPDATE SET chunks_indexed = GREATEST(retrieval_indexing_checkpoints.chunks_indexed, EXCLUDED.chunks_indexed),
                     chunks_total = EXCLUDED.chunks_total, updated_at = now()`,
      [ref.tenantId, ref.documentId, ref.revision, chunksTotal, chunksIndexed],
    );
  }
}
