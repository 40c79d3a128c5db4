import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit service's own table: one summary row per conversation, built by a projection. */
export class ConversationSummaries1764633600100 implements MigrationInterface {
  name = 'ConversationSummaries1764633600100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE audit_conversation_summaries (
        tenant_id          text NOT NULL,
        conversation_id    text NOT NULL,
        status             text NOT NULL,
        channel            text NOT NULL,
        locale             text,
        config_version     bigint NOT NULL,
        started_at         timestamptz NOT NULL,
        last_activity_at   timestamptz NOT NULL,
        messages           integer NOT NULL,
        turns_completed    integer NOT NULL,
        turns_failed       integer NOT NULL,
        prompt_tokens      bigint NOT NULL,
        completion_tokens  bigint NOT NULL,
        closed_reason      text,
        last_sequence      bigint NOT NULL,
        PRIMARY KEY (tenant_id, conversation_id)
      )`);
    await db.query(
      `CREATE INDEX audit_conversation_summaries_started_idx ON audit_conversation_summaries (tenant_id, started_at)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_conversation_summaries`);
  }
}
