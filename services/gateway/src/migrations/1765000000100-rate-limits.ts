import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit counters shared by the gateway replicas (rate-limiter-flexible's row shape: key, points
 * consumed in the window, when the window ends in epoch ms), created here rather than by the library
 * at first use so the schema has one owner and a migration history. Not an event stream on purpose:
 * counters are overwritten every request and mean nothing a minute later.
 */
export class RateLimits1765000000100 implements MigrationInterface {
  name = 'RateLimits1765000000100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE IF NOT EXISTS gateway_rate_limits (
        key     varchar(255) PRIMARY KEY,
        points  integer NOT NULL DEFAULT 0,
        expire  bigint
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS gateway_rate_limits');
  }
}
