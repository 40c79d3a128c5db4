import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The per-tenant Merkle audit log (issue 10): entries (one per event, the leaf's fields), the tree's
 * complete subtrees (level 0 = leaf hashes), its size per tenant, and the signed tree heads. The
 * entries and the leaf hashes are kept apart on purpose: the verifier recomputes each entry's leaf and
 * compares, so a row edited in one table is named at once.
 */
export class AuditLog1764633600200 implements MigrationInterface {
  name = 'AuditLog1764633600200';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE audit_log_sizes (
        tenant_id  text PRIMARY KEY,
        size       bigint NOT NULL CHECK (size >= 0)
      )`);
    await db.query(`
      CREATE TABLE audit_log_nodes (
        tenant_id  text NOT NULL,
        level      smallint NOT NULL,
        index      bigint NOT NULL,
        hash       bytea NOT NULL,
        PRIMARY KEY (tenant_id, level, index)
      )`);
    await db.query(`
      CREATE TABLE audit_log_entries (
        tenant_id        text NOT NULL,
        index            bigint NOT NULL,
        global_position  text NOT NULL,
        event_id         uuid NOT NULL,
        type             text NOT NULL,
        stream_id        text NOT NULL,
        sequence         bigint NOT NULL,
        occurred_at      text NOT NULL,
        data_hash        text NOT NULL,
        PRIMARY KEY (tenant_id, index)
      )`);
    await db.query(
      `CREATE INDEX audit_log_entries_stream_idx ON audit_log_entries (tenant_id, stream_id, index)`,
    );
    await db.query(`CREATE INDEX audit_log_entries_time_idx ON audit_log_entries (tenant_id, occurred_at)`);
    await db.query(`
      CREATE TABLE audit_tree_heads (
        id         bigserial PRIMARY KEY,
        tenant_id  text NOT NULL,
        tree_size  bigint NOT NULL,
        root_hash  text NOT NULL,
        signed_at  text NOT NULL,
        key_id     text NOT NULL,
        signature  text NOT NULL
      )`);
    await db.query(`CREATE INDEX audit_tree_heads_tenant_idx ON audit_tree_heads (tenant_id, tree_size)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_tree_heads, audit_log_entries, audit_log_nodes, audit_log_sizes`);
  }
}
