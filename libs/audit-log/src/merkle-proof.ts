import { HASH_BYTES, largestPowerOfTwoBelow, nodeHash } from './merkle-hash';

/**
 * Audit paths (RFC 9162 §2.1.3) and consistency proofs (§2.1.4): which subtrees a proof is made of,
 * and the RFC's verification algorithms. Generation is split from hashing: a proof is a list of leaf
 * ranges, each the MTH of D[start:end]; the tree resolves them from cached complete subtrees.
 */
export interface LeafRange {
  start: number;
  end: number;
}

/** PATH(m, D[n]) as ranges, ordered as the proof is: from the leaf's sibling up to the root's child. */
export function inclusionProofRanges(index: number, treeSize: number): LeafRange[] {
  assertSize(treeSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${treeSize}`);
  }
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const split = start + largestPowerOfTwoBelow(end - start);
    if (index < split) {
      topDown.push({ start: split, end });
      end = split;
    } else {
      topDown.push({ start, end: split });
      start = split;
    }
  }
  return topDown.reverse();
}

/**
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as ranges, in proof order. Empty when m is 0 or m = n: every
 * tree extends the empty tree, and a tree is consistent with itself when the roots are equal.
 */
export function consistencyProofRanges(first: number, second: number): LeafRange[] {
  assertSize(first);
  assertSize(second);
  if (first > second) throw new RangeError(`first tree size ${first} is larger than second ${second}`);
  if (first === 0 || first === second) return [];
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = second;
  let startsAtFirstRoot = true;
  for (;;) {
    if (first === end) {
      // SUBPROOF(m, D[m], b): the old root itself, unless the verifier already has it (b = true).
      if (!startsAtFirstRoot) topDown.push({ start, end });
      break;
    }
    const split = start + largestPowerOfTwoBelow(end - start);
    if (first <= split) {
      topDown.push({ start: split, end });
      end = split;
    } else {
      topDown.push({ start, end: split });
      start = split;
      startsAtFirstRoot = false;
    }
  }
  return topDown.reverse();
}

function assertSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`tree size ${size} is not a size`);
}

/**
 * RFC 9162 §2.1.3.2. Returns the root the proof leads to, or undefined when the proof has the wrong
 * length for (index, treeSize). Arithmetic instead of bit operators: sizes go past 2^31.
 */
export function rootFromInclusionProof(
  index: number,
  treeSize: number,
  leaf: Buffer,
  proof: readonly Buffer[],
): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    return undefined;
  }
  if (!allHashes([leaf, ...proof])) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusionProof(
  index: number,
  treeSize: number,
  leaf: Buffer,
  proof: readonly Buffer[],
  root: Buffer,
): boolean {
  const computed = rootFromInclusionProof(index, treeSize, leaf, proof);
  return computed !== undefined && computed.equals(root);
}

/**
 * RFC 9162 §2.1.4.2, with the cases the RFC leaves to the caller made explicit: first = second needs an
 * empty proof and equal roots; first = 0 needs an empty proof (the empty tree is a prefix of any).
 */
export function verifyConsistencyProof(
  first: number,
  second: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) {
    return false;
  }
  if (!allHashes([firstRoot, secondRoot, ...proof])) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

/** Verifiers answer false for malformed input instead of throwing halfway through. */
function allHashes(hashes: readonly Buffer[]): boolean {
  return hashes.every((hash) => hash.length === HASH_BYTES);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
