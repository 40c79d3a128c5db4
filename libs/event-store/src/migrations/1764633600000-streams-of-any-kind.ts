import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Streams of any kind, 64-bit positions, and a gap-safe global order for read-all:
 * - a stream is named by (tenant, stream id), its id is text (conversation uuids, `settings`, `kb-document:x`)
 *   and it records its kind; two tenants can never share a stream;
 * - sequences and versions are 64-bit (the API accepts up to 2^53 - 1);
 * - every event records the id of the transaction that wrote it, so read-all can order by
 *   (transaction id, position) and show a row only once every transaction that could precede it ended.
 * - subscriptions keep their checkpoints here, committed with what they did.
 */
export class StreamsOfAnyKind1764633600000 implements MigrationInterface {
  name = 'StreamsOfAnyKind1764633600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE events DROP CONSTRAINT events_stream_id_fkey`);
    await db.query(`ALTER TABLE events DROP CONSTRAINT events_stream_id_sequence_key`);
    await db.query(`ALTER TABLE streams DROP CONSTRAINT streams_pkey`);
    await db.query(`
      ALTER TABLE streams
        ALTER COLUMN stream_id TYPE text,
        ALTER COLUMN version TYPE bigint,
        ADD COLUMN kind text NOT NULL DEFAULT 'conversation',
        ADD PRIMARY KEY (tenant_id, stream_id)`);
    await db.query(`ALTER TABLE streams ALTER COLUMN kind DROP DEFAULT`);
    await db.query(`
      ALTER TABLE events
        ALTER COLUMN stream_id TYPE text,
        ALTER COLUMN sequence TYPE bigint,
        ADD COLUMN transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        ADD CONSTRAINT events_stream_sequence_key UNIQUE (tenant_id, stream_id, sequence),
        ADD CONSTRAINT events_stream_fkey FOREIGN KEY (tenant_id, stream_id) REFERENCES streams (tenant_id, stream_id)`);
    await db.query(`CREATE INDEX events_commit_order_idx ON events (transaction_id, global_position)`);
    await db.query(`
      CREATE TABLE subscription_checkpoints (
        name             text PRIMARY KEY,
        transaction_id   xid8 NOT NULL,
        global_position  bigint NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE subscription_checkpoints`);
    await db.query(`DROP INDEX events_commit_order_idx`);
    await db.query(`
      ALTER TABLE events
        DROP CONSTRAINT events_stream_fkey,
        DROP CONSTRAINT events_stream_sequence_key,
        DROP COLUMN transaction_id,
        ALTER COLUMN sequence TYPE integer,
        ALTER COLUMN stream_id TYPE uuid USING stream_id::uuid`);
    await db.query(`ALTER TABLE streams DROP CONSTRAINT streams_pkey`);
    await db.query(`
      ALTER TABLE streams
        DROP COLUMN kind,
        ALTER COLUMN version TYPE integer,
        ALTER COLUMN stream_id TYPE uuid USING stream_id::uuid,
        ADD PRIMARY KEY (stream_id)`);
    await db.query(`ALTER TABLE events ADD UNIQUE (stream_id, sequence)`);
    await db.query(`ALTER TABLE events ADD FOREIGN KEY (stream_id) REFERENCES streams (stream_id)`);
  }
}
