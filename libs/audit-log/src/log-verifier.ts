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
  /**
   * In the order the store claims (by index); streamed, so a log of any length fits in memory. An async
   * source may yield pages (arrays of rows, as a database cursor returns them), which saves an await
   * per row.
   */
  entries: Iterable<StoredAuditEntry> | AsyncIterable<StoredAuditEntry | readonly StoredAuditEntry[]>;
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
 * Checks a whole log in one pass: every entry is well formed, in its place (gapless indices, stream
 * sequences increasing), and hashes to its stored leaf; the root at every tree
 * head's size equals the signed root, and every signature verifies. Stops at the first failure in log
 * order, since everything after it is suspect anyway.
 */
export async function verifyLog(input: LogVerificationInput): Promise<LogVerification> {
  const heads = parseTreeHeads(input.treeHeads);
  if ('failure' in heads) return heads;
  const checker = new LogChecker(input, heads.sorted);
  let failure = checker.headsAtCurrentSize();
  if (failure === undefined) {
    const { entries } = input;
    if (Symbol.iterator in entries) {
      for (const stored of entries) {
        failure = checker.check(stored);
        if (failure !== undefined) break;
      }
    } else {
      pages: for await (const page of entries) {
        for (const stored of isPage(page) ? page : [page]) {
          failure = checker.check(stored);
          if (failure !== undefined) break pages;
        }
      }
    }
  }
  failure ??= checker.finish();
  return failure === undefined ? checker.verified() : { ok: false, failure };
}

function isPage(item: StoredAuditEntry | readonly StoredAuditEntry[]): item is readonly StoredAuditEntry[] {
  return Array.isArray(item);
}

/** The state of one pass: where it is, what it has seen, and which tree head comes next. */
class LogChecker {
  private readonly accumulator = new RootAccumulator();
  private readonly lastSequence = new Map<string, number>();
  private nextHead = 0;
  /** The size of the last tree head that verified: everything before it is proven. */
  private verifiedSize = 0;

  constructor(
    private readonly input: LogVerificationInput,
    private readonly heads: readonly SignedTreeHead[],
  ) {}

  check(stored: StoredAuditEntry): LogFailure | undefined {
    const index = this.accumulator.size;
    const parsed = AuditEntrySchema.safeParse(stored.entry);
    if (!parsed.success) {
      return at('malformed-entry', index, `entry ${index} is malformed: ${parsed.error.issues[0]?.message}`);
    }
    const entry = parsed.data;
    if (entry.index > index) {
      const missing = entry.index - 1 > index ? `${index}..${entry.index - 1} are` : `${index} is`;
      return at('missing-index', index, `entry ${missing} missing (next stored entry is ${entry.index})`);
    }
    if (entry.index < index) {
      return at('order-broken', index, `entry ${index} expected, found ${entry.index} again or out of order`);
    }
    if (entry.tenantId !== this.input.tenantId) {
      return at(
        'tenant-mismatch',
        index,
        `entry ${index} belongs to ${entry.tenantId}, not ${this.input.tenantId}`,
      );
    }
    // Global positions are not checked for order: the log follows read-all, which orders by writing
    // transaction first, so a transaction that began earlier but wrote later has a lower position.
    const previousSequence = this.lastSequence.get(entry.streamId) ?? 0;
    if (entry.sequence <= previousSequence) {
      return at(
        'order-broken',
        index,
        `entry ${index} has sequence ${entry.sequence} of stream ${entry.streamId}, not after ${previousSequence}`,
      );
    }
    const leaf = auditLeafHash(entry);
    if (stored.leafHash !== undefined && stored.leafHash !== toHex(leaf)) {
      return at('leaf-hash-mismatch', index, `entry ${index} does not hash to its stored leaf hash`);
    }
    this.lastSequence.set(entry.streamId, entry.sequence);
    this.accumulator.push(leaf);
    return this.headsAtCurrentSize();
  }

  /** Checks every tree head of the size reached so far. */
  headsAtCurrentSize(): LogFailure | undefined {
    const size = this.accumulator.size;
    for (let head = this.heads[this.nextHead]; head?.treeSize === size; head = this.heads[++this.nextHead]) {
      const failure = checkTreeHead(head, this.input, this.accumulator, this.verifiedSize);
      if (failure !== undefined) return failure;
      this.verifiedSize = size;
    }
    return undefined;
  }

  /** After the last entry: a tree head still pending signs entries the log no longer has. */
  finish(): LogFailure | undefined {
    const beyond = this.heads[this.nextHead];
    if (beyond === undefined) return undefined;
    const size = this.accumulator.size;
    return {
      kind: 'truncated',
      index: size,
      treeSize: beyond.treeSize,
      detail: `a tree head signs ${beyond.treeSize} entries, the log holds ${size}`,
    };
  }

  verified(): LogVerification {
    return {
      ok: true,
      entries: this.accumulator.size,
      treeHeads: this.heads.length,
      rootHash: toHex(this.accumulator.root()),
      unsignedEntries: this.accumulator.size - this.verifiedSize,
    };
  }
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

function at(kind: LogFailureKind, index: number, detail: string): LogFailure {
  return { kind, index, detail };
}
