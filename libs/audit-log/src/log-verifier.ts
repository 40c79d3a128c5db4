import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { auditLeafHash, AuditEntrySchema, type AuditEntry } from './audit-entry';
import { RootAccumulator, toHex } from './merkle-hash';
import { SignedTreeHeadSchema, verifyTreeHead, type SignedTreeHead } from './tree-head';

/** An entry as a store hands it back: the entry's fields and, if the store keeps it, its leaf hash. */
export interface StoredAuditEntry {
  entry: AuditEntry;
  /** Hex; compared with the hash recomputed from the entry, so an edit of either is caught. */
  leafHash?: string;
}

export interface LogVerificationInput {
  tenantId: string;
  /** In the order the store claims (by index); streamed, so a log of any length fits in memory. */
  entries: AsyncIterable<StoredAuditEntry> | Iterable<StoredAuditEntry>;
  /** The signed tree heads the log has published, in any order. */
  treeHeads: readonly unknown[];
  publicKey: KeyObject;
}

export type LogFailureKind =
  | 'malformed-entry'
  | 'tenant-mismatch'
  | 'missing-index'
  | 'order-broken'
  | 'leaf-hash-mismatch'
  | 'tree-head-invalid'
  | 'root-mismatch'
  | 'truncated';

export interface LogFailure {
  kind: LogFailureKind;
  /**
   * The first entry that cannot be trusted. For root-mismatch it is the first entry after the last
   * tree head that verified: the change is in [index, treeSize), and the signed root cannot say where.
   */
  index: number | null;
  /** The tree head involved, if any. */
  treeSize?: number;
  detail: string;
}

export type LogVerification =
  | {
      ok: true;
      entries: number;
      treeHeads: number;
      rootHash: string;
      /** Entries after the newest tree head: consistent so far, but not yet signed. */
      unsignedEntries: number;
    }
  | { ok: false; failure: LogFailure };

/**
 * Checks a whole log in one pass: every entry is well formed, in its place (gapless indices, global
 * positions and stream sequences increasing), and hashes to its stored leaf; the root at every tree
 * head's size equals the signed root, and every signature verifies. Stops at the first failure in log
 * order, since everything after it is suspect anyway.
 */
export async function verifyLog(input: LogVerificationInput): Promise<LogVerification> {
  const heads = parseTreeHeads(input.treeHeads);
  if ('failure' in heads) return heads;
  let nextHead = 0;
  const accumulator = new RootAccumulator();
  const lastSequence = new Map<string, number>();
  let lastGlobalPosition = -1n;
  let verifiedSize = 0;

  const checkHeadsAt = (size: number): LogFailure | undefined => {
    for (let head = heads.sorted[nextHead]; head?.treeSize === size; head = heads.sorted[++nextHead]) {
      const failure = checkTreeHead(head, input, accumulator, verifiedSize);
      if (failure !== undefined) return failure;
      verifiedSize = size;
    }
    return undefined;
  };

  const atStart = checkHeadsAt(0);
  if (atStart !== undefined) return { ok: false, failure: atStart };
  for await (const stored of input.entries) {
    const index = accumulator.size;
    const parsed = AuditEntrySchema.safeParse(stored.entry);
    if (!parsed.success) {
      return fail(
        'malformed-entry',
        index,
        `entry ${index} is malformed: ${parsed.error.issues[0]?.message}`,
      );
    }
    const entry = parsed.data;
    if (entry.index > index) {
      const missing = entry.index - 1 > index ? `${index}..${entry.index - 1} are` : `${index} is`;
      return fail('missing-index', index, `entry ${missing} missing (next stored entry is ${entry.index})`);
    }
    if (entry.index < index) {
      return fail(
        'order-broken',
        index,
        `entry ${index} expected, found ${entry.index} again or out of order`,
      );
    }
    if (entry.tenantId !== input.tenantId) {
      return fail(
        'tenant-mismatch',
        index,
        `entry ${index} belongs to ${entry.tenantId}, not ${input.tenantId}`,
      );
    }
    const globalPosition = BigInt(entry.globalPosition);
    if (globalPosition <= lastGlobalPosition) {
      return fail(
        'order-broken',
        index,
        `entry ${index} has global position ${globalPosition}, not after ${lastGlobalPosition}`,
      );
    }
    const previousSequence = lastSequence.get(entry.streamId) ?? 0;
    if (entry.sequence <= previousSequence) {
      return fail(
        'order-broken',
        index,
        `entry ${index} has sequence ${entry.sequence} of stream ${entry.streamId}, not after ${previousSequence}`,
      );
    }
    const leaf = auditLeafHash(entry);
    if (stored.leafHash !== undefined && stored.leafHash !== toHex(leaf)) {
      return fail('leaf-hash-mismatch', index, `entry ${index} does not hash to its stored leaf hash`);
    }
    lastGlobalPosition = globalPosition;
    lastSequence.set(entry.streamId, entry.sequence);
    accumulator.push(leaf);
    const headFailure = checkHeadsAt(accumulator.size);
    if (headFailure !== undefined) return { ok: false, failure: headFailure };
  }

  const beyond = heads.sorted[nextHead];
  if (beyond !== undefined) {
    return {
      ok: false,
      failure: {
        kind: 'truncated',
        index: accumulator.size,
        treeSize: beyond.treeSize,
        detail: `a tree head signs ${beyond.treeSize} entries, the log holds ${accumulator.size}`,
      },
    };
  }
  return {
    ok: true,
    entries: accumulator.size,
    treeHeads: heads.sorted.length,
    rootHash: toHex(accumulator.root()),
    unsignedEntries: accumulator.size - verifiedSize,
  };
}

function parseTreeHeads(
  raw: readonly unknown[],
): { sorted: SignedTreeHead[] } | { ok: false; failure: LogFailure } {
  const sorted: SignedTreeHead[] = [];
  for (const head of raw) {
    const parsed = SignedTreeHeadSchema.safeParse(head);
    if (!parsed.success) {
      return {
        ok: false,
        failure: {
          kind: 'tree-head-invalid',
          index: null,
          detail: `a tree head is malformed: ${z.prettifyError(parsed.error)}`,
        },
      };
    }
    sorted.push(parsed.data);
  }
  return { sorted: sorted.sort((a, b) => a.treeSize - b.treeSize) };
}

function checkTreeHead(
  head: SignedTreeHead,
  input: LogVerificationInput,
  accumulator: RootAccumulator,
  verifiedSize: number,
): LogFailure | undefined {
  const where = { index: verifiedSize, treeSize: head.treeSize };
  if (head.tenantId !== input.tenantId) {
    return {
      kind: 'tree-head-invalid',
      ...where,
      detail: `the tree head of size ${head.treeSize} is for ${head.tenantId}`,
    };
  }
  const signature = verifyTreeHead(head, input.publicKey);
  if (!signature.ok) {
    return {
      kind: 'tree-head-invalid',
      ...where,
      detail: `tree head of size ${head.treeSize}: ${signature.reason}`,
    };
  }
  const root = toHex(accumulator.root());
  if (root !== head.rootHash) {
    return {
      kind: 'root-mismatch',
      ...where,
      detail:
        `the entries give root ${root} at size ${head.treeSize}, the signed tree head says ${head.rootHash}: ` +
        `an entry in ${verifiedSize}..${head.treeSize - 1} was changed since it was signed`,
    };
  }
  return undefined;
}

function fail(kind: LogFailureKind, index: number, detail: string): LogVerification {
  return { ok: false, failure: { kind, index, detail } };
}
