import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sessions service's durable timers: one row per timer, fired by the leader once due. The timer
 * id is derived from what it waits on, so scheduling it again is a no-op.
 */
export class Timers1764900000000 implements MigrationInterface {
  name = 'Timers1764900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE sessions_timers (
        timer_id         uuid PRIMARY KEY,
        tenant_id        text NOT NULL,
        conversation_id  uuid NOT NULL,
        kind             text NOT NULL,
        due_at           timestamptz NOT NULL,
        payload          jsonb NOT NULL,
        causation_id     uuid NOT NULL,
        correlation_id   uuid NOT NULL,
        fired_at         timestamptz
      )`);
    await db.query(`CREATE INDEX sessions_timers_due_idx ON sessions_timers (due_at) WHERE fired_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE sessions_timers');
  }
}
