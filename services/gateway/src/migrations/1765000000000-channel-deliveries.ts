import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * IM channels: which conversations are chats of which connector, and the replies owed to them. Both
 * tables are written by the `gateway.channel-deliveries` projection (read-all, with its checkpoint), so
 * every reply is queued exactly once whatever the number of gateway replicas; the sender claims rows
 * with a lease, so each is sent by one replica at a time.
 */
export class ChannelDeliveries1765000000000 implements MigrationInterface {
  name = 'ChannelDeliveries1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE IF NOT EXISTS channel_conversations (
        tenant_id text NOT NULL,
        conversation_id uuid NOT NULL,
        connector_id text NOT NULL,
        chat_id text NOT NULL,
        PRIMARY KEY (tenant_id, conversation_id)
      )`);
    await db.query(`
      CREATE TABLE IF NOT EXISTS channel_deliveries (
        delivery_id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        conversation_id uuid NOT NULL,
        connector_id text NOT NULL,
        chat_id text NOT NULL,
        text text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        sent_at timestamptz,
        failed_at timestamptz,
        platform_message_id text,
        last_error text
      )`);
    await db.query(`
      CREATE INDEX IF NOT EXISTS channel_deliveries_due_idx ON channel_deliveries (next_attempt_at)
        WHERE sent_at IS NULL AND failed_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS channel_deliveries');
    await db.query('DROP TABLE IF EXISTS channel_conversations');
  }
}
