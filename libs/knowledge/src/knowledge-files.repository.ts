import { createHash } from 'node:crypto';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Uploaded files, kept outside the events (which name them by content hash) so a document stream stays
 * small however large its files. The gateway writes and migrates this table; retrieval reads it to index.
 * Content-addressed per tenant: uploading the same bytes twice stores them once.
 */
export class KnowledgeFiles1764806400000 implements MigrationInterface {
  name = 'KnowledgeFiles1764806400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE knowledge_files (
        tenant_id     text NOT NULL,
        content_hash  text NOT NULL,
        media_type    text NOT NULL,
        size_bytes    integer NOT NULL,
        content       bytea NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, content_hash)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE knowledge_files`);
  }
}

export function contentHashOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export class KnowledgeFilesRepository {
  constructor(private readonly db: DataSource) {}

  /** Stores the bytes under their hash (once); returns the hash. */
  async put(tenantId: string, mediaType: string, content: Buffer): Promise<string> {
    const hash = contentHashOf(content);
    await this.db.query(
      `INSERT INTO knowledge_files (tenant_id, content_hash, media_type, size_bytes, content)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, content_hash) DO NOTHING`,
      [tenantId, hash, mediaType, content.length, content],
    );
    return hash;
  }

  async get(tenantId: string, contentHash: string): Promise<Buffer | null> {
    const rows = await this.db.query<{ content: Buffer }[]>(
      `SELECT content FROM knowledge_files WHERE tenant_id = $1 AND content_hash = $2`,
      [tenantId, contentHash],
    );
    return rows[0]?.content ?? null;
  }
}
