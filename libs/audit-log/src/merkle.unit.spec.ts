import { AuditLogError } from './audit-log.error';
import {
  EMPTY_TREE_HASH,
  largestPowerOfTwoBelow,
  leafHash,
  merkleRoot,
  nodeHash,
  sha256,
  toHex,
} from './merkle-hash';
import {
  consistencyProofRanges,
  inclusionProofRanges,
  rootFromInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle-proof';
import { InMemoryMerkleStore } from './merkle-store';
import { MerkleTree, rangeNodeIds } from './merkle-tree';

/**
 * The RFC's definitions written out literally (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1), over an array of
 * leaf hashes: the oracle the cached tree is held to. Slow and obviously right.
 */
const oracle = {
  mth(d: readonly Buffer[]): Buffer {
    if (d.length === 0) return EMPTY_TREE_HASH;
    if (d.length === 1) return d[0]!;
    const k = largestPowerOfTwoBelow(d.length);
    return nodeHash(oracle.mth(d.slice(0, k)), oracle.mth(d.slice(k)));
  },
  path(m: number, d: readonly Buffer[]): Buffer[] {
    if (d.length === 1) return [];
    const k = largestPowerOfTwoBelow(d.length);
    return m < k
      ? [...oracle.path(m, d.slice(0, k)), oracle.mth(d.slice(k))]
      : [...oracle.path(m - k, d.slice(k)), oracle.mth(d.slice(0, k))];
  },
  subproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
    if (m === d.length) return b ? [] : [oracle.mth(d)];
    const k = largestPowerOfTwoBelow(d.length);
    return m <= k
      ? [...oracle.subproof(m, d.slice(0, k), b), oracle.mth(d.slice(k))]
      : [...oracle.subproof(m - k, d.slice(k), false), oracle.mth(d.slice(0, k))];
  },
};

const hex = (hashes: readonly Buffer[]): string[] => hashes.map(toHex);
const unhex = (text: string): Buffer => Buffer.from(text, 'hex');
const flip = (hash: Buffer): Buffer => Buffer.from(hash.map((byte, i) => (i === 0 ? byte ^ 1 : byte)));
const leavesOf = (n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

async function treeWith(leaves: readonly Buffer[]): Promise<MerkleTree> {
  const tree = new MerkleTree(new InMemoryMerkleStore());
  await tree.append(leaves);
  return tree;
}

/** The Certificate Transparency reference vectors (RFC 6962 test data, used by every CT log). */
const CT = {
  inputs: [
    '',
    '00',
    '10',
    '2021',
    '3031',
    '40414243',
    '5051525354555657',
    '606162636465666768696a6b6c6d6e6f',
  ],
  roots: [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ],
  inclusion: [
    {
      index: 0,
      size: 8,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 5,
      size: 8,
      path: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    { index: 2, size: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
    {
      index: 1,
      size: 5,
      path: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
  ],
  consistency: [
    { first: 1, second: 1, path: [] as string[] },
    {
      first: 1,
      second: 8,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      first: 6,
      second: 8,
      path: [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      first: 2,
      second: 5,
      path: [
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
  ],
};
const ctLeaves = CT.inputs.map((input) => leafHash(unhex(input)));

describe('Merkle Tree Hash (RFC 6962 / 9162 section 2.1)', () => {
  it('given no leaves, then the root is SHA-256 of nothing (e3b0c442...)', async () => {
    expect(toHex(EMPTY_TREE_HASH)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(merkleRoot([])).toEqual(EMPTY_TREE_HASH);
    expect(await new MerkleTree(new InMemoryMerkleStore()).root()).toEqual(EMPTY_TREE_HASH);
  });

  it('given one empty leaf, then the root is SHA-256(0x00)', () => {
    expect(toHex(leafHash(Buffer.alloc(0)))).toBe(toHex(sha256(Buffer.from([0]))));
    expect(toHex(leafHash(Buffer.alloc(0)))).toBe(CT.roots[1]);
  });

  it('given three leaves, then the root is H(1 || H(1 || a || b) || c), worked by hand', () => {
    const [a, b, c] = leavesOf(3) as [Buffer, Buffer, Buffer];
    const ab = sha256(Buffer.from([1]), a, b);
    const expected = sha256(Buffer.from([1]), ab, c);

    expect(merkleRoot([a, b, c])).toEqual(expected);
    expect(nodeHash(a, b)).toEqual(ab);
  });

  it('given the CT reference leaves, then every size 0..8 has the published root', async () => {
    const tree = await treeWith(ctLeaves);
    for (let size = 0; size <= 8; size += 1) {
      expect(toHex(await tree.root(size))).toBe(CT.roots[size]);
      expect(toHex(merkleRoot(ctLeaves.slice(0, size)))).toBe(CT.roots[size]);
    }
  });

  it('given 1..130 leaves, then the streaming root, the cached root and the RFC recursion agree', async () => {
    const leaves = leavesOf(130);
    const tree = await treeWith(leaves);
    for (let size = 0; size <= leaves.length; size += 1) {
      const expected = oracle.mth(leaves.slice(0, size));
      expect(merkleRoot(leaves.slice(0, size))).toEqual(expected);
      expect(await tree.root(size)).toEqual(expected);
    }
  });

  it('largestPowerOfTwoBelow is the k of the RFC: strictly smaller, also for large sizes', () => {
    expect([2, 3, 4, 5, 8, 9, 2 ** 40 + 1].map(largestPowerOfTwoBelow)).toEqual([1, 2, 2, 4, 4, 8, 2 ** 40]);
    expect(() => largestPowerOfTwoBelow(1)).toThrow(RangeError);
  });
});

describe('inclusion proofs (RFC 9162 section 2.1.3)', () => {
  it('given the CT reference vectors, then the tree produces exactly those audit paths and they verify', async () => {
    const tree = await treeWith(ctLeaves);
    for (const { index, size, path } of CT.inclusion) {
      const proof = await tree.inclusionProof(index, size);

      expect(hex(proof)).toEqual(path);
      expect(verifyInclusionProof(index, size, ctLeaves[index]!, proof, unhex(CT.roots[size]!))).toBe(true);
    }
  });

  it('given every size 1..64 and every index, then the proof equals PATH(m, D[n]) and verifies', async () => {
    const leaves = leavesOf(64);
    const tree = await treeWith(leaves);
    for (let size = 1; size <= 64; size += 1) {
      const root = oracle.mth(leaves.slice(0, size));
      for (let index = 0; index < size; index += 1) {
        const proof = await tree.inclusionProof(index, size);

        expect(hex(proof)).toEqual(hex(oracle.path(index, leaves.slice(0, size))));
        expect(verifyInclusionProof(index, size, leaves[index]!, proof, root)).toBe(true);
      }
    }
  });

  describe('given a valid proof that is then misused or altered', () => {
    const leaves = leavesOf(13);
    const root = oracle.mth(leaves);
    const index = 6;
    const proof = oracle.path(index, leaves);

    it('it fails for another leaf, another index, another size or another root', () => {
      expect(verifyInclusionProof(index, 13, leaves[index]!, proof, root)).toBe(true);
      expect(verifyInclusionProof(index, 13, leaves[index + 1]!, proof, root)).toBe(false);
      expect(verifyInclusionProof(index + 1, 13, leaves[index]!, proof, root)).toBe(false);
      // A path has one hash per level, so a size with another depth cannot use it; a size of the
      // same shape (14 here) is told apart by its root, which a tree head signs together with the size.
      expect(verifyInclusionProof(index, 8, leaves[index]!, proof, root)).toBe(false);
      expect(verifyInclusionProof(index, 40, leaves[index]!, proof, root)).toBe(false);
      expect(verifyInclusionProof(index, 14, leaves[index]!, proof, oracle.mth(leavesOf(14)))).toBe(false);
      expect(verifyInclusionProof(index, 13, leaves[index]!, proof, flip(root))).toBe(false);
    });

    it('it fails when any hash of the path is changed, dropped, or one is added', () => {
      proof.forEach((_, i) => {
        const changed = proof.map((hash, j) => (i === j ? flip(hash) : hash));
        expect(verifyInclusionProof(index, 13, leaves[index]!, changed, root)).toBe(false);
        expect(verifyInclusionProof(index, 13, leaves[index]!, proof.toSpliced(i, 1), root)).toBe(false);
      });
      expect(verifyInclusionProof(index, 13, leaves[index]!, [...proof, root], root)).toBe(false);
    });

    it('it fails for hashes that are not 32 bytes instead of throwing', () => {
      const short = proof.with(1, proof[1]!.subarray(0, 31));

      expect(verifyInclusionProof(index, 13, leaves[index]!, short, root)).toBe(false);
      expect(verifyInclusionProof(index, 13, Buffer.alloc(0), proof, root)).toBe(false);
      expect(verifyConsistencyProof(3, 13, Buffer.alloc(31), root, proof)).toBe(false);
    });

    it('it fails for indices outside the tree instead of throwing', () => {
      expect(rootFromInclusionProof(13, 13, leaves[0]!, proof)).toBeUndefined();
      expect(rootFromInclusionProof(-1, 13, leaves[0]!, proof)).toBeUndefined();
      expect(rootFromInclusionProof(0.5, 13, leaves[0]!, proof)).toBeUndefined();
    });
  });

  it('given a leaf beyond the tree size, then generating its proof is refused with a code', async () => {
    const tree = await treeWith(leavesOf(5));

    await expect(tree.inclusionProof(5)).rejects.toMatchObject({ code: 'index-out-of-range' });
    await expect(tree.inclusionProof(3, 3)).rejects.toMatchObject({ code: 'index-out-of-range' });
    await expect(tree.inclusionProof(0, 6)).rejects.toMatchObject({ code: 'tree-size-invalid' });
  });
});

describe('consistency proofs (RFC 9162 section 2.1.4)', () => {
  it('given the CT reference vectors, then the tree produces exactly those proofs and they verify', async () => {
    const tree = await treeWith(ctLeaves);
    for (const { first, second, path } of CT.consistency) {
      const proof = await tree.consistencyProof(first, second);

      expect(hex(proof)).toEqual(path);
      expect(
        verifyConsistencyProof(first, second, unhex(CT.roots[first]!), unhex(CT.roots[second]!), proof),
      ).toBe(true);
    }
  });

  it('given every pair 1 <= m <= n <= 64, then the proof equals PROOF(m, D[n]) and verifies', async () => {
    const leaves = leavesOf(64);
    const tree = await treeWith(leaves);
    const roots = Array.from({ length: 65 }, (_, size) => oracle.mth(leaves.slice(0, size)));
    for (let second = 1; second <= 64; second += 1) {
      for (let first = 1; first <= second; first += 1) {
        const proof = await tree.consistencyProof(first, second);

        expect(hex(proof)).toEqual(hex(oracle.subproof(first, leaves.slice(0, second), true)));
        expect(verifyConsistencyProof(first, second, roots[first]!, roots[second]!, proof)).toBe(true);
      }
    }
  });

  it('given pairs with a changed root, size or proof hash, then none verifies (sizes up to 24)', () => {
    const leaves = leavesOf(25);
    const roots = Array.from({ length: 26 }, (_, size) => oracle.mth(leaves.slice(0, size)));
    for (let second = 2; second <= 24; second += 1) {
      for (let first = 1; first < second; first += 1) {
        const proof = oracle.subproof(first, leaves.slice(0, second), true);
        const [firstRoot, secondRoot] = [roots[first]!, roots[second]!];

        expect(verifyConsistencyProof(first, second, flip(firstRoot), secondRoot, proof)).toBe(false);
        expect(verifyConsistencyProof(first, second, firstRoot, flip(secondRoot), proof)).toBe(false);
        expect(verifyConsistencyProof(first, second + 1, firstRoot, roots[second + 1]!, proof)).toBe(false);
        expect(verifyConsistencyProof(first, second * 2 + 1, firstRoot, secondRoot, proof)).toBe(false);
        expect(verifyConsistencyProof(first, second, firstRoot, secondRoot, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistencyProof(first, second, firstRoot, secondRoot, [...proof, firstRoot])).toBe(
          false,
        );
        proof.forEach((_, i) => {
          const changed = proof.map((hash, j) => (i === j ? flip(hash) : hash));
          expect(verifyConsistencyProof(first, second, firstRoot, secondRoot, changed)).toBe(false);
        });
      }
    }
  });

  it('given a forked log (same first 5 leaves, a different 6th and later), then its head is not consistent', async () => {
    const honest = leavesOf(12);
    const forked = [...honest.slice(0, 5), leafHash(Buffer.from('rewritten')), ...honest.slice(6)];
    const [honestTree, forkedTree] = [await treeWith(honest), await treeWith(forked)];
    const signedEarlier = { size: 8, root: await honestTree.root(8) };

    // The fork agrees up to 5 leaves, so proofs from there on still hold...
    const fromFive = await forkedTree.consistencyProof(5, 12);
    expect(verifyConsistencyProof(5, 12, await honestTree.root(5), await forkedTree.root(), fromFive)).toBe(
      true,
    );
    // ...but from a head that covered the rewritten leaf, neither the fork's proof nor the honest one holds.
    const forkedProof = await forkedTree.consistencyProof(8, 12);
    const honestProof = await honestTree.consistencyProof(8, 12);
    expect(verifyConsistencyProof(8, 12, signedEarlier.root, await forkedTree.root(), forkedProof)).toBe(
      false,
    );
    expect(verifyConsistencyProof(8, 12, signedEarlier.root, await forkedTree.root(), honestProof)).toBe(
      false,
    );
  });

  it('handles the edges the RFC leaves to the caller: m = n, m = 0, m > n', () => {
    const leaves = leavesOf(4);
    const [r0, r3, r4] = [EMPTY_TREE_HASH, oracle.mth(leaves.slice(0, 3)), oracle.mth(leaves)];

    expect(verifyConsistencyProof(4, 4, r4, r4, [])).toBe(true);
    expect(verifyConsistencyProof(4, 4, r3, r4, [])).toBe(false);
    expect(verifyConsistencyProof(4, 4, r4, r4, [r4])).toBe(false);
    expect(verifyConsistencyProof(0, 4, r0, r4, [])).toBe(true);
    expect(verifyConsistencyProof(0, 4, r0, r4, [r4])).toBe(false);
    expect(verifyConsistencyProof(4, 3, r4, r3, [])).toBe(false);
    expect(verifyConsistencyProof(3, 4, r3, r4, [])).toBe(false);
    expect(consistencyProofRanges(0, 4)).toEqual([]);
    expect(() => consistencyProofRanges(5, 4)).toThrow(RangeError);
  });
});

describe('MerkleTree over a MerkleStore', () => {
  it('given leaves appended one by one or in uneven batches, then the stored tree is the same', async () => {
    const leaves = leavesOf(77);
    const oneByOne = new MerkleTree(new InMemoryMerkleStore());
    for (const leaf of leaves) await oneByOne.append([leaf]);
    const batched = new MerkleTree(new InMemoryMerkleStore());
    for (const [start, end] of [
      [0, 3],
      [3, 3],
      [3, 32],
      [32, 33],
      [33, 77],
    ] as const) {
      expect(await batched.append(leaves.slice(start, end))).toEqual({ firstIndex: start, size: end });
    }

    for (const size of [1, 2, 31, 32, 33, 64, 77]) {
      expect(await batched.root(size)).toEqual(await oneByOne.root(size));
    }
    expect(await batched.inclusionProof(40)).toEqual(await oneByOne.inclusionProof(40));
    expect(await batched.leafHash(76)).toEqual(leaves[76]);
  });

  it('caches complete subtrees, so a root reads one stored hash per set bit of the size', async () => {
    const store = new InMemoryMerkleStore();
    const tree = new MerkleTree(store);
    await tree.append(leavesOf(1000));
    const reads: number[] = [];
    const nodeHashes = store.nodeHashes.bind(store);
    store.nodeHashes = (ids) => {
      reads.push(ids.length);
      return nodeHashes(ids);
    };

    await tree.root(1000); // 1000 = 0b1111101000: six complete subtrees
    await tree.inclusionProof(999, 1000);

    expect(reads[0]).toBe(6);
    expect(reads).toHaveLength(2); // one store call per proof, whatever its length
  });

  it('given a writer that appended meanwhile, then the stale append is refused and changes nothing', async () => {
    const store = new InMemoryMerkleStore();
    await new MerkleTree(store).append(leavesOf(3));

    const stale = store.appendNodes(2, 3, [{ level: 0, index: 2, hash: leavesOf(1)[0]! }]);

    await expect(stale).rejects.toMatchObject({ code: 'append-conflict' });
    expect(await store.size()).toBe(3);
  });

  it('given nodes out of order or a size that does not match them, then the store writes nothing', async () => {
    const store = new InMemoryMerkleStore();
    const [a, b] = leavesOf(2) as [Buffer, Buffer];

    await expect(store.appendNodes(0, 1, [{ level: 0, index: 1, hash: a }])).rejects.toBeInstanceOf(
      AuditLogError,
    );
    await expect(store.appendNodes(0, 2, [{ level: 0, index: 0, hash: a }])).rejects.toBeInstanceOf(
      AuditLogError,
    );
    expect(await store.size()).toBe(0);
    await store.appendNodes(0, 2, [
      { level: 0, index: 0, hash: a },
      { level: 0, index: 1, hash: b },
    ]);
    await expect(store.nodeHashes([{ level: 1, index: 0 }])).rejects.toMatchObject({ code: 'node-missing' });
  });

  it('hands out copies, so a caller cannot change the stored tree through a returned hash', async () => {
    const store = new InMemoryMerkleStore();
    const tree = new MerkleTree(store);
    await tree.append(leavesOf(4));
    const before = await tree.root();

    const [leaf] = await store.leafHashes(0, 1);
    leaf!.fill(0);

    expect(await tree.root()).toEqual(before);
    await expect(store.leafHashes(2, 5)).rejects.toMatchObject({ code: 'index-out-of-range' });
  });

  it('splits any RFC range into aligned complete subtrees, largest first', () => {
    expect(rangeNodeIds({ start: 0, end: 13 })).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rangeNodeIds({ start: 8, end: 13 })).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(() => rangeNodeIds({ start: 3, end: 7 })).toThrow(RangeError);
    expect(inclusionProofRanges(5, 6)).toEqual([
      { start: 4, end: 5 },
      { start: 0, end: 4 },
    ]);
  });
});
