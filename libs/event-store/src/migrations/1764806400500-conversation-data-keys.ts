import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One data key per conversation (issue 10, erasure by crypto-shredding): the key that seals the
 * conversation's personal text, wrapped with the master key (DATA_KEY_ENCRYPTION_KEY), written in the
 * statement that appends the conversation's first event. Erasure sets `wrapped_key` to NULL and
 * records when: the row stays as a tombstone, so no later append can bring a new key to life and
 * readers know the text is erased, not missing.
 */
export class ConversationDataKeys1764806400500 implements MigrationInterface {
  name = 'ConversationDataKeys1764806400500';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE conversation_data_keys (
        tenant_id       text        NOT NULL,
        conversation_id text        NOT NULL,
        wrapped_key     bytea,
        created_at      timestamptz NOT NULL DEFAULT now(),
        erased_at       timestamptz,
        PRIMARY KEY (tenant_id, conversation_id),
        CONSTRAINT conversation_data_keys_erased_check CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE conversation_data_keys`);
  }
}
