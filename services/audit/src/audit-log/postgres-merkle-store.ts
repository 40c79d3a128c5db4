import type { EntityManager } from 'typeorm';
import { AuditLogError, type MerkleStore, type NodeId, type StoredNode } from '@libs/audit-log';

/** A pool (DataSource) or a transaction (EntityManager): both run queries the same way. */
export type Queryable = Pick<EntityManager, 'query'>;

/**
 * One tenant's tree in `audit_log_nodes` (a row per complete subtree) and `audit_log_sizes`. Given a
 * transaction, appends commit with whatever else it writes (the projection's checkpoint); the size row
 * is the optimistic lock (`appendNodes` moves it only from the size the append was built on).
 */
export class PostgresMerkleStore implements MerkleStore {
  constructor(
    private readonly db: Queryable,
    private readonly tenantId: string,
  ) {}

  async size(): Promise<number> {
    const rows: { size: string }[] = await this.db.query(
      'SELECT size FROM audit_log_sizes WHERE tenant_id = $1',
      [this.tenantId],
    );
    return Number(rows[0]?.size ?? 0);
  }

  async leafHashes(start: number, end: number): Promise<Buffer[]> {
    const rows: { hash: Buffer }[] = await this.db.query(
      `SELECT hash FROM audit_log_nodes WHERE tenant_id = $1 AND level = 0 AND index >= $2 AND index < $3
        ORDER BY index`,
      [this.tenantId, start, end],
    );
    if (rows.length !== end - start) {
      throw new AuditLogError('index-out-of-range', `leaves [${start}, ${end}) are not all stored`);
    }
    return rows.map((row) => row.hash);
  }

  async nodeHashes(ids: readonly NodeId[]): Promise<Buffer[]> {
    if (ids.length === 0) return [];
    const rows: { level: number; index: string; hash: Buffer }[] = await this.db.query(
      `SELECT level, index, hash FROM audit_log_nodes
        WHERE tenant_id = $1 AND (level, index) IN (SELECT * FROM unnest($2::smallint[], $3::bigint[]))`,
      [this.tenantId, ids.map((id) => id.level), ids.map((id) => id.index)],
    );
    const found = new Map(rows.map((row) => [`${row.level}/${row.index}`, row.hash]));
    return ids.map(({ level, index }) => {
      const hash = found.get(`${level}/${index}`);
      if (hash === undefined) {
        throw new AuditLogError('node-missing', `no complete subtree (${level}, ${index})`, { level, index });
      }
      return hash;
    });
  }

  /**
   * Creates the tenant's size row if needed and locks it until the transaction ends: every appender of
   * this tenant (the projection, a person's read being logged) waits here instead of conflicting.
   */
  async lock(): Promise<number> {
    await this.db.query(
      'INSERT INTO audit_log_sizes (tenant_id, size) VALUES ($1, 0) ON CONFLICT (tenant_id) DO NOTHING',
      [this.tenantId],
    );
    const rows: { size: string }[] = await this.db.query(
      'SELECT size FROM audit_log_sizes WHERE tenant_id = $1 FOR UPDATE',
      [this.tenantId],
    );
    return Number(rows[0]!.size);
  }

  async appendNodes(expectedSize: number, newSize: number, nodes: readonly StoredNode[]): Promise<void> {
    const moved: unknown[] = await this.db.query(
      `WITH moved AS (
         UPDATE audit_log_sizes SET size = $3 WHERE tenant_id = $1 AND size = $2 RETURNING size)
       SELECT size FROM moved`,
      [this.tenantId, expectedSize, newSize],
    );
    if (moved.length === 0) {
      throw new AuditLogError('append-conflict', `log size is no longer ${expectedSize} (or not locked)`, {
        expectedSize,
      });
    }
    if (nodes.length === 0) return;
    await this.db.query(
      `INSERT INTO audit_log_nodes (tenant_id, level, index, hash)
       SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])`,
      [
        this.tenantId,
        nodes.map((node) => node.level),
        nodes.map((node) => node.index),
        nodes.map((node) => node.hash),
      ],
    );
  }
}
