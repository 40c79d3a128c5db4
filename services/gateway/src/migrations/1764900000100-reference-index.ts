import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * References are searched by the gateway and must be unique per tenant: an index on the
 * reference-assigned events themselves, so a colliding reference is refused in the append's own
 * transaction and there is no second copy to keep in sync.
 */
export class ReferenceIndex1764900000100 implements MigrationInterface {
  name = 'ReferenceIndex1764900000100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS gateway_references_idx ON events (tenant_id, (data->>'reference'))
        WHERE type = 'conversation.reference-assigned.v1'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX IF EXISTS gateway_references_idx');
  }
}
