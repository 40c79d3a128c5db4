import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Retrieval's own table: how far the indexing of each document revision got (its checkpoint). */
export class KnowledgeIndexing1764806400100 implements MigrationInterface {
  name = 'KnowledgeIndexing1764806400100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE retrieval_indexing_checkpoints (
        tenant_id       text NOT NULL,
        document_id     text NOT NULL,
        revision        integer NOT NULL,
        chunks_total    integer NOT NULL,
        chunks_indexed  integer NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, document_id, revision)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE retrieval_indexing_checkpoints`);
  }
}
