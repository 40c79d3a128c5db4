import { AuditLogError } from './audit-log.error';

/**
 * A complete subtree of the log: the 2^level leaves [index * 2^level, (index + 1) * 2^level).
 * Level 0 nodes are the leaf hashes. Once complete, a subtree never changes, which is what makes
 * caching them safe and every root or proof a handful of reads.
 */
export interface NodeId {
  level: number;
  index: number;
}

export interface StoredNode extends NodeId {
  hash: Buffer;
}

/**
 * Storage port for one tenant's tree. A PostgreSQL implementation keeps a row per complete subtree
 * (tenant_id, level, index, hash; leaf hashes may live in the entries table instead) and the size in a
 * per-tenant row; `appendNodes` runs in the caller's transaction, the one that also moves the consumer's
 * checkpoint, so an entry is neither lost nor appended twice across a crash.
 */
export interface MerkleStore {
  /** Number of leaves. */
  size(): Promise<number>;
  /** Leaf hashes [start, end), in order. */
  leafHashes(start: number, end: number): Promise<Buffer[]>;
  /**
   * The hashes of these complete subtrees, in the order asked (one round trip for a whole proof:
   * e.g. `WHERE (level, index) IN (...)`). Throws AuditLogError('node-missing') for one not stored.
   */
  nodeHashes(ids: readonly NodeId[]): Promise<Buffer[]>;
  /**
   * Stores the new leaves and every subtree they complete, and moves the size from `expectedSize` to
   * `newSize`, all or nothing. Throws AuditLogError('append-conflict') when the size is no longer
   * `expectedSize` (another writer appended first).
   */
  appendNodes(expectedSize: number, newSize: number, nodes: readonly StoredNode[]): Promise<void>;
}

/**
 * Each level is one growing buffer of 32-byte hashes, not an array of Buffers: a million leaves cost
 * 64 MB of hashes instead of two million small objects.
 */
export class InMemoryMerkleStore implements MerkleStore {
  private readonly levels: LevelBuffer[] = [];
  private leaves = 0;

  size(): Promise<number> {
    return Promise.resolve(this.leaves);
  }

  leafHashes(start: number, end: number): Promise<Buffer[]> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end)) {
      return Promise.reject(new AuditLogError('index-out-of-range', `no leaf range [${start}, ${end})`));
    }
    if (end > this.leaves) {
      return Promise.reject(
        new AuditLogError('index-out-of-range', `leaf ${end - 1} is past the end (${this.leaves})`),
      );
    }
    const level = this.levels[0];
    const hashes: Buffer[] = [];
    for (let index = start; index < end; index += 1) hashes.push(level!.get(index));
    return Promise.resolve(hashes);
  }

  nodeHashes(ids: readonly NodeId[]): Promise<Buffer[]> {
    const missing = ids.find((id) => !this.isStored(id));
    if (missing !== undefined) {
      const { level, index } = missing;
      return Promise.reject(
        new AuditLogError('node-missing', `no complete subtree (${level}, ${index})`, { level, index }),
      );
    }
    return Promise.resolve(ids.map(({ level, index }) => this.levels[level]!.get(index)));
  }

  appendNodes(expectedSize: number, newSize: number, nodes: readonly StoredNode[]): Promise<void> {
    if (expectedSize !== this.leaves) {
      return Promise.reject(
        new AuditLogError('append-conflict', `log size is ${this.leaves}, not ${expectedSize}`, {
          expectedSize,
          actualSize: this.leaves,
        }),
      );
    }
    // Check everything before writing anything: all or nothing, like the transaction it stands for.
    const next = this.levels.map((level) => level.length);
    for (const node of nodes) {
      const expected = next[node.level] ?? 0;
      if (node.index !== expected || node.hash.length !== 32) {
        return Promise.reject(
          new AuditLogError('append-conflict', `subtree (${node.level}, ${node.index}) is not the next one`),
        );
      }
      next[node.level] = expected + 1;
    }
    if ((next[0] ?? 0) !== newSize) {
      return Promise.reject(new AuditLogError('append-conflict', `${newSize} leaves claimed, not stored`));
    }
    for (const node of nodes) this.level(node.level).push(node.hash);
    this.leaves = newSize;
    return Promise.resolve();
  }

  private isStored({ level, index }: NodeId): boolean {
    const stored = this.levels[level];
    return (
      stored !== undefined &&
      Number.isSafeInteger(index) &&
      index >= 0 &&
      index < stored.length &&
      (index + 1) * 2 ** level <= this.leaves
    );
  }

  private level(level: number): LevelBuffer {
    while (this.levels.length <= level) this.levels.push(new LevelBuffer());
    return this.levels[level]!;
  }
}

class LevelBuffer {
  private bytes = Buffer.alloc(32 * 1024);
  length = 0;

  /** A copy: callers must not be able to change the store through what it returned. */
  get(index: number): Buffer {
    return Buffer.from(this.bytes.subarray(index * 32, index * 32 + 32));
  }

  push(hash: Buffer): void {
    if ((this.length + 1) * 32 > this.bytes.length) {
      const grown = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(grown);
      this.bytes = grown;
    }
    hash.copy(this.bytes, this.length * 32);
    this.length += 1;
  }
}
