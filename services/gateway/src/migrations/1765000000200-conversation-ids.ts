import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The OpenAI facade lets a client name a conversation (X-Conversation-Id) and creates it on first use,
 * unless another tenant holds that id (404): a lookup by stream id alone, which the (tenant, stream)
 * primary key cannot serve.
 */
export class ConversationIds1765000000200 implements MigrationInterface {
  name = 'ConversationIds1765000000200';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX IF NOT EXISTS gateway_conversation_ids_idx ON streams (stream_id) WHERE kind = 'conversation'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX IF EXISTS gateway_conversation_ids_idx');
  }
}
