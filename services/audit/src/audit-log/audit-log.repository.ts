import type { EntityManager } from 'typeorm';
import {
  auditEntryFromEvent,
  auditLeafHash,
  MerkleTree,
  toHex,
  type AuditEntry,
  type AuditableEvent,
  type SignedTreeHead,
  type StoredAuditEntry,
} from '@libs/audit-log';
import { PostgresMerkleStore, type Queryable } from './postgres-merkle-store';

export interface EntryRow {
  tenant_id: string;
  index: string;
  global_position: string;
  event_id: string;
  type: string;
  stream_id: string;
  sequence: string;
  occurred_at: string;
  data_hash: string;
}

export const ENTRY_COLUMNS =
  'e.tenant_id, e.index, e.global_position, e.event_id, e.type, e.stream_id, e.sequence, e.occurred_at, e.data_hash';

/** A row as stored, without judging it: the verifier is the one that checks it against the schema. */
export function entryFromRow(row: EntryRow): AuditEntry {
  return {
    tenantId: row.tenant_id,
    index: Number(row.index),
    globalPosition: row.global_position,
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    sequence: Number(row.sequence),
    occurredAt: row.occurred_at,
    dataHash: row.data_hash,
  };
}

export interface TreeHeadRow {
  tenant_id: string;
  tree_size: string;
  root_hash: string;
  signed_at: string;
  key_id: string;
  signature: string;
}

export function treeHeadFromRow(row: TreeHeadRow): SignedTreeHead {
  return {
    tenantId: row.tenant_id,
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    timestamp: row.signed_at,
    keyId: row.key_id,
    signature: row.signature,
  };
}

/** An event to log, with its store position (the leaf records it). */
export interface LoggableEvent {
  event: AuditableEvent;
  globalPosition: string;
}

/**
 * Appends a tenant's events to its log inside `tx`: locks the tenant's tree, gives the entries the
 * next indices, stores the leaves and the subtrees they complete, and the entries. Committed with
 * whatever else `tx` writes (the checkpoint), so a crash leaves both or neither.
 */
export async function appendToLog(
  tx: EntityManager,
  tenantId: string,
  events: readonly LoggableEvent[],
): Promise<AuditEntry[]> {
  const store = new PostgresMerkleStore(tx, tenantId);
  const size = await store.lock();
  const entries = events.map(({ event, globalPosition }, offset) =>
    auditEntryFromEvent(event, { index: size + offset, globalPosition }),
  );
  await new MerkleTree(store).append(entries.map(auditLeafHash));
  await tx.query(
    `INSERT INTO audit_log_entries
       (tenant_id, index, global_position, event_id, type, stream_id, sequence, occurred_at, data_hash)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::uuid[], $5::text[], $6::text[],
                          $7::bigint[], $8::text[], $9::text[])`,
    [
      entries.map((entry) => entry.tenantId),
      entries.map((entry) => entry.index),
      entries.map((entry) => entry.globalPosition),
      entries.map((entry) => entry.eventId),
      entries.map((entry) => entry.type),
      entries.map((entry) => entry.streamId),
      entries.map((entry) => entry.sequence),
      entries.map((entry) => entry.occurredAt),
      entries.map((entry) => entry.dataHash),
    ],
  );
  return entries;
}

/**
 * A tenant's entries in index order with the stored leaf hash of each (NULL when the node row is
 * gone), in pages of `pageSize` by keyset: constant memory for a log of any length.
 */
export async function* readLogPages(
  db: Queryable,
  tenantId: string,
  pageSize = 5_000,
): AsyncGenerator<StoredAuditEntry[]> {
  let after = -1;
  for (;;) {
    const rows: (EntryRow & { leaf_hash: Buffer | null })[] = await db.query(
      `SELECT ${ENTRY_COLUMNS}, n.hash AS leaf_hash FROM audit_log_entries e
         LEFT JOIN audit_log_nodes n ON n.tenant_id = e.tenant_id AND n.level = 0 AND n.index = e.index
        WHERE e.tenant_id = $1 AND e.index > $2 ORDER BY e.index LIMIT $3`,
      [tenantId, after, pageSize],
    );
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      entry: entryFromRow(row),
      // A missing leaf row is itself a finding: an impossible hash makes the verifier name this entry.
      leafHash: row.leaf_hash === null ? 'missing' : toHex(row.leaf_hash),
    }));
    after = Number(rows.at(-1)!.index);
  }
}

export async function treeHeadsOf(db: Queryable, tenantId: string): Promise<SignedTreeHead[]> {
  const rows: TreeHeadRow[] = await db.query(
    `SELECT tenant_id, tree_size, root_hash, signed_at, key_id, signature FROM audit_tree_heads
      WHERE tenant_id = $1 ORDER BY tree_size, id`,
    [tenantId],
  );
  return rows.map(treeHeadFromRow);
}

export async function latestTreeHead(db: Queryable, tenantId: string): Promise<SignedTreeHead | null> {
  const rows: TreeHeadRow[] = await db.query(
    `SELECT tenant_id, tree_size, root_hash, signed_at, key_id, signature FROM audit_tree_heads
      WHERE tenant_id = $1 ORDER BY tree_size DESC, id DESC LIMIT 1`,
    [tenantId],
  );
  return rows[0] ? treeHeadFromRow(rows[0]) : null;
}
