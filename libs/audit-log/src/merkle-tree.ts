import { AuditLogError } from './audit-log.error';
import { EMPTY_TREE_HASH, nodeHash } from './merkle-hash';
import { consistencyProofRanges, inclusionProofRanges, type LeafRange } from './merkle-proof';
import type { MerkleStore, NodeId, StoredNode } from './merkle-store';

/**
 * One tenant's append-only Merkle tree over a MerkleStore. Every hash a root or proof needs is either
 * a complete subtree (stored when it filled up) or the right edge of a tree, which splits into at most
 * log2(n) complete subtrees. So a root costs O(log n) node reads and a proof O(log^2 n) at most, in
 * one `nodeHashes` call; nothing ever rereads the leaves.
 */
export class MerkleTree {
  constructor(private readonly store: MerkleStore) {}

  size(): Promise<number> {
    return this.store.size();
  }

  /**
   * Appends leaf hashes and stores every subtree they complete. Returns the index of the first new leaf
   * and the new size. Concurrent appenders are refused by the store (`append-conflict`).
   */
  async append(leafHashes: readonly Buffer[]): Promise<{ firstIndex: number; size: number }> {
    const size = await this.store.size();
    if (leafHashes.length === 0) return { firstIndex: size, size };
    // The frontier (the complete subtrees of the current right edge) is all an append builds on.
    const frontierIds = rangeNodeIds({ start: 0, end: size });
    const frontier = await this.store.nodeHashes(frontierIds);
    const stack: StoredNode[] = frontierIds.map((id, i) => ({ ...id, hash: frontier[i]! }));
    const created: StoredNode[] = [];
    leafHashes.forEach((hash, offset) => {
      if (hash.length !== 32) throw new AuditLogError('tree-size-invalid', 'a leaf hash is 32 bytes');
      let node: StoredNode = { level: 0, index: size + offset, hash };
      created.push(node);
      let top = stack.at(-1);
      while (top !== undefined && top.level === node.level) {
        stack.pop();
        node = { level: node.level + 1, index: top.index / 2, hash: nodeHash(top.hash, node.hash) };
        created.push(node);
        top = stack.at(-1);
      }
      stack.push(node);
    });
    const newSize = size + leafHashes.length;
    await this.store.appendNodes(size, newSize, created);
    return { firstIndex: size, size: newSize };
  }

  /** MTH(D[0:treeSize]); treeSize defaults to the current size, any earlier size works too. */
  async root(treeSize?: number): Promise<Buffer> {
    const size = await this.checkedSize(treeSize);
    if (size === 0) return EMPTY_TREE_HASH;
    const [root] = await this.rangeHashes([{ start: 0, end: size }]);
    return root!;
  }

  async leafHash(index: number): Promise<Buffer> {
    const size = await this.store.size();
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new AuditLogError('index-out-of-range', `leaf ${index} is outside a tree of ${size}`);
    }
    const [hash] = await this.store.nodeHashes([{ level: 0, index }]);
    return hash!;
  }

  /** The audit path of leaf `index` in the tree of `treeSize` leaves (RFC 9162 §2.1.3.1). */
  async inclusionProof(index: number, treeSize?: number): Promise<Buffer[]> {
    const [proof] = await this.inclusionProofs([index], treeSize);
    return proof!;
  }

  /** Audit paths of many leaves against one tree size, all fetched in one store call (exports). */
  async inclusionProofs(indices: readonly number[], treeSize?: number): Promise<Buffer[][]> {
    const size = await this.checkedSize(treeSize);
    const plans = indices.map((index) => {
      if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
        throw new AuditLogError('index-out-of-range', `leaf ${index} is outside a tree of ${size}`);
      }
      return inclusionProofRanges(index, size);
    });
    const hashes = await this.rangeHashes(plans.flat());
    let next = 0;
    return plans.map((ranges) => ranges.map(() => hashes[next++]!));
  }

  /** Proof that the tree of `first` leaves is a prefix of the tree of `second` (RFC 9162 §2.1.4.1). */
  async consistencyProof(first: number, second?: number): Promise<Buffer[]> {
    const size = await this.checkedSize(second);
    if (!Number.isSafeInteger(first) || first < 0 || first > size) {
      throw new AuditLogError('tree-size-invalid', `first tree size ${first} is not in 0..${size}`);
    }
    return this.rangeHashes(consistencyProofRanges(first, size));
  }

  private async checkedSize(treeSize: number | undefined): Promise<number> {
    const current = await this.store.size();
    if (treeSize === undefined) return current;
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > current) {
      throw new AuditLogError('tree-size-invalid', `tree size ${treeSize} is not in 0..${current}`);
    }
    return treeSize;
  }

  /** MTH of each range, reading every complete subtree involved in one store call. */
  private async rangeHashes(ranges: readonly LeafRange[]): Promise<Buffer[]> {
    const plans = ranges.map(rangeNodeIds);
    const hashes = await this.store.nodeHashes(plans.flat());
    let next = 0;
    return plans.map((ids) => {
      const subtrees = ids.map(() => hashes[next++]!);
      return foldRight(subtrees);
    });
  }
}

/**
 * The complete subtrees that make up D[start:end], largest first: the binary decomposition of its
 * length. Every range in the RFC's recursions starts on a multiple of its largest part, so each part is
 * an aligned, stored subtree.
 */
export function rangeNodeIds({ start, end }: LeafRange): NodeId[] {
  const ids: NodeId[] = [];
  let position = start;
  let width = 1;
  while (width * 2 <= end - start) width *= 2;
  for (let level = Math.log2(width); width >= 1; width /= 2, level -= 1) {
    if (end - position < width) continue;
    if (position % width !== 0) throw new RangeError(`[${start}, ${end}) is not made of aligned subtrees`);
    ids.push({ level, index: position / width });
    position += width;
  }
  return ids;
}

/** MTH of consecutive complete subtrees, largest first: the RFC splits off the largest one each time. */
function foldRight(subtrees: readonly Buffer[]): Buffer {
  let hash = subtrees.at(-1)!;
  for (let i = subtrees.length - 2; i >= 0; i -= 1) hash = nodeHash(subtrees[i]!, hash);
  return hash;
}
