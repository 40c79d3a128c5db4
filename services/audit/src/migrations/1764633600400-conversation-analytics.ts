import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Analytics on the conversation summaries (issue 10): intents, slots, handoff, models, turn latency,
 * retrieval degraded, intent fallbacks, and the turns still waiting (what latency is measured from).
 * The rows written before lack them, so the projection starts over: its rows and checkpoint go, and
 * the service rebuilds them from the start of the store on boot.
 */
export class ConversationAnalytics1764633600400 implements MigrationInterface {
  name = 'ConversationAnalytics1764633600400';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE audit_conversation_summaries
        ADD COLUMN intent                text,
        ADD COLUMN intents               text[]  NOT NULL DEFAULT '{}',
        ADD COLUMN intent_fallbacks      integer NOT NULL DEFAULT 0,
        ADD COLUMN slots_filled          text[]  NOT NULL DEFAULT '{}',
        ADD COLUMN handed_off            boolean NOT NULL DEFAULT false,
        ADD COLUMN handoff_reason        text,
        ADD COLUMN models                text[]  NOT NULL DEFAULT '{}',
        ADD COLUMN latency_turns         integer NOT NULL DEFAULT 0,
        ADD COLUMN latency_total_ms      bigint  NOT NULL DEFAULT 0,
        ADD COLUMN latency_max_ms        bigint  NOT NULL DEFAULT 0,
        ADD COLUMN retrievals            integer NOT NULL DEFAULT 0,
        ADD COLUMN retrievals_degraded   integer NOT NULL DEFAULT 0,
        ADD COLUMN pending               jsonb   NOT NULL DEFAULT '{"messages":{},"turns":{}}'`);
    // Keyset pages for lists and streamed exports: (started_at, conversation_id) within a tenant.
    await db.query(`DROP INDEX audit_conversation_summaries_started_idx`);
    await db.query(
      `CREATE INDEX audit_conversation_summaries_started_idx
         ON audit_conversation_summaries (tenant_id, started_at, conversation_id)`,
    );
    await db.query(
      `CREATE INDEX audit_conversation_summaries_intents_idx ON audit_conversation_summaries USING gin (intents)`,
    );
    await db.query(`DELETE FROM audit_conversation_summaries`);
    await db.query(`DELETE FROM subscription_checkpoints WHERE name = 'audit.conversation-summaries'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX audit_conversation_summaries_intents_idx`);
    await db.query(`DROP INDEX audit_conversation_summaries_started_idx`);
    await db.query(
      `CREATE INDEX audit_conversation_summaries_started_idx ON audit_conversation_summaries (tenant_id, started_at)`,
    );
    await db.query(`
      ALTER TABLE audit_conversation_summaries
        DROP COLUMN intent, DROP COLUMN intents, DROP COLUMN intent_fallbacks, DROP COLUMN slots_filled,
        DROP COLUMN handed_off, DROP COLUMN handoff_reason, DROP COLUMN models, DROP COLUMN latency_turns,
        DROP COLUMN latency_total_ms, DROP COLUMN latency_max_ms, DROP COLUMN retrievals,
        DROP COLUMN retrievals_degraded, DROP COLUMN pending`);
  }
}
