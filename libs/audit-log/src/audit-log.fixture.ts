import { createPrivateKey } from 'node:crypto';
import { auditEntryFromEvent, auditLeafHash, type AuditEntry } from './audit-entry';
import { InMemoryMerkleStore } from './merkle-store';
import { MerkleTree } from './merkle-tree';
import { loadAuditSigningKey, signTreeHead, type AuditSigningKey, type SignedTreeHead } from './tree-head';

/** Test data for the audit log: deterministic entries, trees and keys (no clock, no randomness). */
export const TENANT = 'acme';

/** A fixed Ed25519 key (RFC 8032 test 1 secret), so failures reproduce byte for byte. */
const FIXED_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';

export function fixedSigningKey(seedHex: string = FIXED_SEED): AuditSigningKey {
  const der = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.from(seedHex, 'hex'),
  ]);
  const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  return loadAuditSigningKey(pem);
}

export function uuidFor(n: number, prefix = '0000'): string {
  return `${prefix}0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Entry i: three conversations interleaved, global positions with gaps (other tenants in between). */
export function sampleEntry(index: number, tenantId: string = TENANT): AuditEntry {
  const conversation = index % 3;
  return auditEntryFromEvent(
    {
      eventId: uuidFor(index + 1),
      type: index % 2 === 0 ? 'conversation.message-received.v1' : 'conversation.reply-completed.v1',
      tenantId,
      conversationId: uuidFor(conversation + 1, 'cccc'),
      sequence: Math.floor(index / 3) + 1,
      occurredAt: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
      data: {
        text: { ciphertext: Buffer.from(`message ${index}`).toString('base64'), keyId: `k${conversation}` },
      },
    },
    { index, globalPosition: BigInt(100 + index * 7) },
  );
}

export function sampleEntries(count: number, tenantId: string = TENANT): AuditEntry[] {
  return Array.from({ length: count }, (_, index) => sampleEntry(index, tenantId));
}

export const SIGNED_AT = new Date('2026-01-02T03:04:05.678Z');

export async function treeOf(entries: readonly AuditEntry[]): Promise<MerkleTree> {
  const tree = new MerkleTree(new InMemoryMerkleStore());
  await tree.append(entries.map(auditLeafHash));
  return tree;
}

export async function headsAt(
  tree: MerkleTree,
  sizes: readonly number[],
  key: AuditSigningKey,
  tenantId: string = TENANT,
): Promise<SignedTreeHead[]> {
  const heads: SignedTreeHead[] = [];
  for (const treeSize of sizes) {
    heads.push(signTreeHead({ tenantId, treeSize, rootHash: await tree.root(treeSize) }, SIGNED_AT, key));
  }
  return heads;
}
