import type { KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  MerkleTree,
  signTreeHead,
  toHex,
  verifyLog,
  type AuditSigningKey,
  type LogVerification,
  type SignedTreeHead,
} from '@libs/audit-log';
import { latestTreeHead, readLogPages, treeHeadsOf, type TreeHeadRow } from './audit-log.repository';
import { PostgresMerkleStore } from './postgres-merkle-store';

export const AUDIT_SIGNING_KEY = Symbol('AUDIT_SIGNING_KEY');
export const AUDIT_CLOCK = Symbol('AUDIT_CLOCK');
export type Clock = () => Date;

export interface InclusionProof {
  index: number;
  treeSize: number;
  leafHash: string;
  path: string[];
}

export interface ConsistencyProof {
  first: number;
  second: number;
  path: string[];
}

/** Tree heads, proofs and verification of the tenants' logs; the projection does the appending. */
@Injectable()
export class AuditLogService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AUDIT_SIGNING_KEY) private readonly key: AuditSigningKey,
    @Inject(AUDIT_CLOCK) private readonly clock: Clock,
  ) {}

  get publicKeyId(): string {
    return this.key.keyId;
  }

  get publicKey(): KeyObject {
    return this.key.publicKey;
  }

  /** For exports, which the log key signs as a whole. */
  get signingKey(): AuditSigningKey {
    return this.key;
  }

  tree(tenantId: string): MerkleTree {
    return new MerkleTree(new PostgresMerkleStore(this.db, tenantId));
  }

  /** Signs the tenant's tree at its current size and records the head. */
  async signTreeHead(tenantId: string): Promise<SignedTreeHead> {
    const tree = this.tree(tenantId);
    const treeSize = await tree.size();
    const head = signTreeHead(
      { tenantId, treeSize, rootHash: await tree.root(treeSize) },
      this.clock(),
      this.key,
    );
    await this.db.query(
      `INSERT INTO audit_tree_heads (tenant_id, tree_size, root_hash, signed_at, key_id, signature)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [head.tenantId, head.treeSize, head.rootHash, head.timestamp, head.keyId, head.signature],
    );
    return head;
  }

  /** Signs a head for every tenant whose log grew since its last head (the interval's work). */
  async signGrownLogs(): Promise<number> {
    const grown: Pick<TreeHeadRow, 'tenant_id'>[] = await this.db.query(
      `SELECT s.tenant_id FROM audit_log_sizes s
        WHERE s.size > COALESCE((SELECT max(tree_size) FROM audit_tree_heads h WHERE h.tenant_id = s.tenant_id), -1)
        ORDER BY s.tenant_id`,
    );
    for (const { tenant_id } of grown) await this.signTreeHead(tenant_id);
    return grown.length;
  }

  latestTreeHead(tenantId: string): Promise<SignedTreeHead | null> {
    return latestTreeHead(this.db, tenantId);
  }

  treeHeads(tenantId: string): Promise<SignedTreeHead[]> {
    return treeHeadsOf(this.db, tenantId);
  }

  async inclusionProof(tenantId: string, index: number, treeSize?: number): Promise<InclusionProof> {
    const tree = this.tree(tenantId);
    const size = treeSize ?? (await tree.size());
    const path = await tree.inclusionProof(index, size);
    return { index, treeSize: size, leafHash: toHex(await tree.leafHash(index)), path: path.map(toHex) };
  }

  async consistencyProof(tenantId: string, first: number, second?: number): Promise<ConsistencyProof> {
    const tree = this.tree(tenantId);
    const size = second ?? (await tree.size());
    const path = await tree.consistencyProof(first, size);
    return { first, second: size, path: path.map(toHex) };
  }

  /** Recomputes the tenant's whole log from PostgreSQL and checks every signed head against it. */
  async verify(tenantId: string): Promise<LogVerification> {
    return verifyLog({
      tenantId,
      entries: readLogPages(this.db, tenantId),
      treeHeads: await this.treeHeads(tenantId),
      publicKey: this.key.publicKey,
    });
  }
}
