import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tenant answer cache: which turn answered a pure FAQ question (by key, a SHA-256; never the words
 * nor the reply, which stay sealed in the source conversation's stream). A row is claimed when the
 * reply is requested and usable once that turn completed.
 */
export class AnswerCache1765000000000 implements MigrationInterface {
  name = 'AnswerCache1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE sessions_answer_cache (
        tenant_id        text NOT NULL,
        cache_key        text NOT NULL,
        conversation_id  uuid NOT NULL,
        turn_id          uuid NOT NULL,
        completed        boolean NOT NULL DEFAULT false,
        PRIMARY KEY (tenant_id, cache_key)
      )`);
    await db.query(`CREATE INDEX sessions_answer_cache_turn_idx ON sessions_answer_cache (turn_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE sessions_answer_cache');
  }
}
