import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every API key gets one role within its tenant (issue 10). Existing keys become `frontend`, which is
 * what they could do before: start, message, read and close conversations.
 */
export class ApiKeyRoles1764720000000 implements MigrationInterface {
  name = 'ApiKeyRoles1764720000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE api_keys ADD COLUMN role text NOT NULL DEFAULT 'frontend'
        CONSTRAINT api_keys_role_check CHECK (role IN ('frontend', 'agent', 'analyst', 'compliance', 'admin'))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_keys DROP COLUMN role`);
  }
}
