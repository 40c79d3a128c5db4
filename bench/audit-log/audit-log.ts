/**
 * Audit log (pure core) benchmark: the in-memory Merkle tree and the verifiers, no database.
 *
 *   npm run build && node dist/bench/audit-log/audit-log.js [--leaves 1000000] [--proofs 10000]
 *   (or, without a build: npx ts-node -T -r tsconfig-paths/register bench/audit-log/audit-log.ts)
 *
 * Measures: building leaves from entries and appending them; the root over all leaves, recomputed
 * from the leaf hashes and read from the cached subtrees; inclusion and consistency proofs, generated
 * and verified; verifying the whole log (the issue's goal: >= 50k entries/s); building and verifying a
 * compliance export. Writes a sample export to bench/out/audit-export-sample/ for `npm run audit:verify`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  auditLeafHash,
  createAuditExport,
  ENTRIES_FILE,
  generateAuditSigningKey,
  hashEventDataBytes,
  InMemoryMerkleStore,
  loadAuditSigningKey,
  MANIFEST_FILE,
  MerkleTree,
  RootAccumulator,
  signTreeHead,
  toHex,
  verifyAuditExport,
  verifyConsistencyProof,
  verifyInclusionProof,
  verifyLog,
  type AuditEntry,
  type ExportedEntry,
  type SignedTreeHead,
  type StoredAuditEntry,
} from '@libs/audit-log';

const { values } = parseArgs({
  options: {
    leaves: { type: 'string', default: '1000000' },
    proofs: { type: 'string', default: '10000' },
    'export-entries': { type: 'string', default: '10000' },
    'head-every': { type: 'string', default: '10000' },
    out: { type: 'string', default: 'bench/out/audit-export-sample' },
  },
});
const LEAVES = Number(values.leaves);
const PROOFS = Number(values.proofs);
const EXPORT_ENTRIES = Number(values['export-entries']);
const HEAD_EVERY = Number(values['head-every']);
const TENANT = 'bench';
const PAGE = 1000;
const SIGNED_AT = new Date('2026-01-01T00:00:00.000Z');

/** A deterministic pseudo-random sequence (xorshift), so runs pick the same indices. */
function randomIndices(count: number, below: number, seed = 0x9e3779b9): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  });
}

/** Entry i: 1000 conversations interleaved, data hashes from a small pool (hashing data is not measured). */
const DATA_HASHES = Array.from({ length: 1000 }, (_, i) => hashEventDataBytes(Buffer.from(`data ${i}`)));
const BASE_TIME = Date.UTC(2026, 0, 1);
function entryAt(index: number): AuditEntry {
  const conversation = index % 1000;
  return {
    tenantId: TENANT,
    index,
    globalPosition: String(1000 + index * 3),
    eventId: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
    type: 'conversation.message-received.v1',
    streamId: `cccc0000-0000-4000-8000-${conversation.toString(16).padStart(12, '0')}`,
    sequence: Math.floor(index / 1000) + 1,
    occurredAt: new Date(BASE_TIME + index).toISOString(),
    dataHash: DATA_HASHES[conversation]!,
  };
}

interface Row {
  step: string;
  count: number;
  seconds: number;
  /** User + system CPU time of this process: on a shared machine, wall time also counts waiting for a core. */
  cpuSeconds: number;
  note?: string;
}
const rows: Row[] = [];

async function measure<T>(step: string, count: number, run: () => Promise<T> | T, note?: string): Promise<T> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  rows.push(
    note === undefined ? { step, count, seconds, cpuSeconds } : { step, count, seconds, cpuSeconds, note },
  );
  process.stderr.write(`${step}: ${count} in ${seconds.toFixed(3)} s (CPU ${cpuSeconds.toFixed(3)} s)\n`);
  return result;
}

async function main(): Promise<void> {
  const key = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);
  const store = new InMemoryMerkleStore();
  const tree = new MerkleTree(store);

  await measure(
    'append: entry -> canonical leaf -> SHA-256, appended in batches of 1000',
    LEAVES,
    async () => {
      for (let start = 0; start < LEAVES; start += 1000) {
        const batch: Buffer[] = [];
        for (let index = start; index < Math.min(start + 1000, LEAVES); index += 1) {
          batch.push(auditLeafHash(entryAt(index)));
        }
        await tree.append(batch);
      }
    },
  );

  // Leaf hashes are read in pages, as from a database cursor: holding a million Buffers would make the
  // garbage collector, not the log, the thing measured.
  async function* leafPages(): AsyncGenerator<Buffer[]> {
    for (let start = 0; start < LEAVES; start += PAGE) {
      yield await store.leafHashes(start, Math.min(start + PAGE, LEAVES));
    }
  }
  const recomputed = await measure(
    'root recomputed from all leaf hashes (streaming, pages of 1000)',
    LEAVES,
    async () => {
      const accumulator = new RootAccumulator();
      for await (const page of leafPages()) for (const leaf of page) accumulator.push(leaf);
      return accumulator.root();
    },
  );
  const cached = await tree.root();
  if (!cached.equals(recomputed)) throw new Error('cached and recomputed roots differ');
  const sizes = randomIndices(PROOFS, LEAVES).map((i) => i + 1);
  await measure('root at a random size, from cached subtrees', PROOFS, async () => {
    for (const size of sizes) await tree.root(size);
  });

  const indices = randomIndices(PROOFS, LEAVES, 12345);
  const proofLeaves = await Promise.all(indices.map((index) => tree.leafHash(index)));
  const proofs = await measure('inclusion proof generated (one store call each)', PROOFS, async () => {
    const all: Buffer[][] = [];
    for (const index of indices) all.push(await tree.inclusionProof(index));
    return all;
  });
  await measure('inclusion proof verified (RFC 9162 2.1.3.2)', PROOFS, () => {
    indices.forEach((index, i) => {
      if (!verifyInclusionProof(index, LEAVES, proofLeaves[i]!, proofs[i]!, cached)) {
        throw new Error(`proof of ${index} failed`);
      }
    });
  });
  const batched = await measure('inclusion proofs generated as one batch (export path)', PROOFS, () =>
    tree.inclusionProofs(indices),
  );
  if (batched.some((proof, i) => !proof.every((hash, j) => hash.equals(proofs[i]![j]!)))) {
    throw new Error('batched proofs differ');
  }

  const firsts = randomIndices(PROOFS, LEAVES, 777).map((i) => i + 1);
  const firstRoots = await Promise.all(firsts.map((size) => tree.root(size)));
  const consistency = await measure('consistency proof generated (m random, n = all)', PROOFS, async () => {
    const all: Buffer[][] = [];
    for (const first of firsts) all.push(await tree.consistencyProof(first));
    return all;
  });
  await measure('consistency proof verified (RFC 9162 2.1.4.2)', PROOFS, () => {
    firsts.forEach((first, i) => {
      if (!verifyConsistencyProof(first, LEAVES, firstRoots[i]!, cached, consistency[i]!)) {
        throw new Error(`consistency ${first} failed`);
      }
    });
  });

  const headSizes = Array.from({ length: Math.floor(LEAVES / HEAD_EVERY) }, (_, i) => (i + 1) * HEAD_EVERY);
  const heads: SignedTreeHead[] = [];
  for (const treeSize of headSizes) {
    heads.push(
      signTreeHead({ tenantId: TENANT, treeSize, rootHash: await tree.root(treeSize) }, SIGNED_AT, key),
    );
  }
  async function* storedRows(): AsyncGenerator<StoredAuditEntry[]> {
    let index = 0;
    for await (const page of leafPages()) {
      yield page.map((leaf) => ({ entry: entryAt(index++), leafHash: toHex(leaf) }));
    }
  }
  await measure('rows produced alone, in pages (the verifier input, baseline)', LEAVES, async () => {
    let count = 0;
    for await (const page of storedRows()) count += page.length;
    return count;
  });
  const verification = await measure(
    'whole log verified: schema, order, leaf hash, roots, signatures',
    LEAVES,
    () => verifyLog({ tenantId: TENANT, entries: storedRows(), treeHeads: heads, publicKey: key.publicKey }),
    `${heads.length} signed tree heads`,
  );
  if (!verification.ok) throw new Error(`log did not verify: ${verification.failure.detail}`);

  const exportIndices = [...new Set(randomIndices(EXPORT_ENTRIES * 2, LEAVES, 4242))]
    .slice(0, EXPORT_ENTRIES)
    .sort((a, b) => a - b);
  const exported: ExportedEntry[] = exportIndices.map((index) => ({ entry: entryAt(index) }));
  const treeHead = heads.at(-1)!;
  const files = await measure('export built (entries, proofs, manifest, signature)', exported.length, () =>
    createAuditExport({ tree, treeHead, entries: exported, scope: { sample: 'bench' }, key }),
  );
  const fileBytes = { manifest: Buffer.from(files.manifest), entries: Buffer.from(files.entries) };
  const exportCheck = await measure(
    'export verified offline (files only)',
    exported.length,
    () => verifyAuditExport(fileBytes, { publicKey: key.publicKey }),
    `manifest ${(fileBytes.manifest.length / 1e6).toFixed(1)} MB, entries ${(fileBytes.entries.length / 1e6).toFixed(1)} MB`,
  );
  if (!exportCheck.ok) throw new Error(`export did not verify: ${exportCheck.failure.detail}`);

  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, MANIFEST_FILE), files.manifest);
  writeFileSync(join(values.out, ENTRIES_FILE), files.entries);
  writeFileSync(join(values.out, 'log.pub'), key.publicKey.export({ format: 'pem', type: 'spki' }));

  printReport();
}

function printReport(): void {
  const cpu = cpus()[0]?.model ?? 'unknown';
  process.stdout.write(
    `Node ${process.version}, ${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `load average at the end ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}; ${LEAVES} leaves, ${PROOFS} proofs\n\n`,
  );
  process.stdout.write(
    '| step | count | wall s | per second (wall) | per item (wall) | CPU s | per CPU second |\n' +
      '|---|---:|---:|---:|---:|---:|---:|\n',
  );
  for (const { step, count, seconds, cpuSeconds, note } of rows) {
    const perItem = (seconds / count) * 1e6;
    const perItemText = perItem >= 1000 ? `${(perItem / 1000).toFixed(2)} ms` : `${perItem.toFixed(1)} µs`;
    process.stdout.write(
      `| ${step}${note === undefined ? '' : ` (${note})`} | ${count.toLocaleString('en')} | ${seconds.toFixed(3)} | ` +
        `${Math.round(count / seconds).toLocaleString('en')} | ${perItemText} | ${cpuSeconds.toFixed(3)} | ` +
        `${Math.round(count / cpuSeconds).toLocaleString('en')} |\n`,
    );
  }
  process.stdout.write(
    `\nheap used at the end: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
