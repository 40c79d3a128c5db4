import { fixedSigningKey, headsAt, sampleEntries, TENANT, treeOf } from './audit-log.fixture';
import { auditLeafHash, AuditEntrySchema, type AuditEntry } from './audit-entry';
import { verifyLog, type LogVerificationInput, type StoredAuditEntry } from './log-verifier';
import { toHex } from './merkle-hash';
import { generateAuditSigningKey, loadAuditSigningKey, type SignedTreeHead } from './tree-head';

const key = fixedSigningKey();

/** Rows as a store would return them: the entry and the leaf hash written next to it. */
const rowsOf = (entries: readonly AuditEntry[]): StoredAuditEntry[] =>
  entries.map((entry) => ({ entry, leafHash: toHex(auditLeafHash(entry)) }));

/** An edit made directly in the table, leaving the stored leaf hash as it was. */
const edit = (row: StoredAuditEntry, change: Partial<AuditEntry>): StoredAuditEntry => ({
  ...row,
  entry: { ...row.entry, ...change },
});

/** An edit by someone who also recomputed the leaf hash: only the signed roots can tell. */
const consistentEdit = (row: StoredAuditEntry, change: Partial<AuditEntry>): StoredAuditEntry => {
  const entry = AuditEntrySchema.parse({ ...row.entry, ...change });
  return { entry, leafHash: toHex(auditLeafHash(entry)) };
};

async function logOf(count: number, headSizes: readonly number[]) {
  const entries = sampleEntries(count);
  const heads = await headsAt(await treeOf(entries), headSizes, key);
  return { rows: rowsOf(entries), heads };
}

function verify(rows: LogVerificationInput['entries'], heads: readonly unknown[]) {
  return verifyLog({ tenantId: TENANT, entries: rows, treeHeads: heads, publicKey: key.publicKey });
}

describe('verifyLog', () => {
  describe('given an intact log', () => {
    it('when every head is signed and matches, then it verifies and reports the root', async () => {
      const { rows, heads } = await logOf(20, [0, 8, 15, 20]);
      const tree = await treeOf(sampleEntries(20));

      expect(await verify(rows, heads)).toEqual({
        ok: true,
        entries: 20,
        treeHeads: 4,
        rootHash: toHex(await tree.root()),
        unsignedEntries: 0,
      });
    });

    it('when entries were appended after the newest head, then it verifies and counts them as unsigned', async () => {
      const { rows, heads } = await logOf(20, [8]);

      expect(await verify(rows, heads)).toMatchObject({ ok: true, entries: 20, unsignedEntries: 12 });
    });

    it('when the heads come in any order and the entries from an async source, then it still verifies', async () => {
      const { rows, heads } = await logOf(20, [20, 3, 8]);
      async function* fromDatabase() {
        for (const row of rows) yield await Promise.resolve(row);
      }

      expect(await verify(fromDatabase(), heads)).toMatchObject({ ok: true, treeHeads: 3 });
    });

    it('when a database cursor yields pages of rows, then it verifies them and locates a failure inside a page', async () => {
      const { rows, heads } = await logOf(20, [20]);
      async function* pagesOf(source: StoredAuditEntry[]) {
        for (let start = 0; start < source.length; start += 6)
          yield await Promise.resolve(source.slice(start, start + 6));
      }

      expect(await verify(pagesOf(rows), heads)).toMatchObject({ ok: true, entries: 20 });
      const edited = rows.with(13, edit(rows[13]!, { sequence: 42 }));
      expect(await verify(pagesOf(edited), heads)).toMatchObject({
        ok: false,
        failure: { kind: 'leaf-hash-mismatch', index: 13 },
      });
    });

    it('when the log is empty and its head signs size 0, then it verifies', async () => {
      const { rows, heads } = await logOf(0, [0]);

      expect(await verify(rows, heads)).toMatchObject({ ok: true, entries: 0 });
    });
  });

  describe('given a changed row', () => {
    it('when an entry field was edited, then the entry is named: its leaf hash no longer matches', async () => {
      const { rows, heads } = await logOf(20, [8, 15, 20]);
      rows[11] = edit(rows[11]!, { type: 'conversation.closed.v1' });

      expect(await verify(rows, heads)).toEqual({
        ok: false,
        failure: {
          kind: 'leaf-hash-mismatch',
          index: 11,
          detail: 'entry 11 does not hash to its stored leaf hash',
        },
      });
    });

    it('when the leaf hash was recomputed too, then the next signed root catches it, from the last good head on', async () => {
      const { rows, heads } = await logOf(20, [8, 15, 20]);
      rows[11] = consistentEdit(rows[11]!, { dataHash: '0'.repeat(64) });

      const result = await verify(rows, heads);

      expect(result).toMatchObject({ ok: false, failure: { kind: 'root-mismatch', index: 8, treeSize: 15 } });
      expect(!result.ok && result.failure.detail).toContain('an entry in 8..14 was changed');
    });

    it('when the store keeps no leaf hashes, then the signed root catches an edit all the same', async () => {
      const { rows, heads } = await logOf(20, [8, 15, 20]);
      const bare = rows.map(({ entry }) => ({ entry }));
      bare[3] = { entry: { ...bare[3]!.entry, occurredAt: '2020-01-01T00:00:00.000Z' } };

      expect(await verify(bare, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'root-mismatch', index: 0, treeSize: 8 },
      });
    });

    it('when the global position was changed and its leaf hash recomputed, then the signed root catches it', async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows[6] = consistentEdit(rows[6]!, { globalPosition: rows[4]!.entry.globalPosition });

      expect(await verify(rows, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'root-mismatch', index: 0, treeSize: 20 },
      });
    });

    it("when a stream's sequence goes backwards, then the order is broken at that entry", async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows[9] = consistentEdit(rows[9]!, { sequence: rows[3]!.entry.sequence });

      const result = await verify(rows, heads);

      expect(result).toMatchObject({ ok: false, failure: { kind: 'order-broken', index: 9 } });
      expect(!result.ok && result.failure.detail).toMatch(/sequence 2 of stream .*, not after 3/);
    });

    it('when an entry of another tenant is slipped in, then it is named', async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows[2] = consistentEdit(rows[2]!, { tenantId: 'other' });

      expect(await verify(rows, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'tenant-mismatch', index: 2 },
      });
    });

    it('when a row no longer parses as an entry, then it is named as malformed', async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows[5] = edit(rows[5]!, { sequence: 'five' as unknown as number });

      expect(await verify(rows, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'malformed-entry', index: 5 },
      });
    });
  });

  describe('given rows deleted, reordered or duplicated', () => {
    it('when one row was deleted, then its index is named as missing', async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows.splice(11, 1);

      expect(await verify(rows, heads)).toEqual({
        ok: false,
        failure: {
          kind: 'missing-index',
          index: 11,
          detail: 'entry 11 is missing (next stored entry is 12)',
        },
      });
    });

    it('when several rows were deleted, then the first missing index and the gap are named', async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows.splice(4, 3);

      expect(await verify(rows, heads)).toMatchObject({
        ok: false,
        failure: {
          kind: 'missing-index',
          index: 4,
          detail: 'entry 4..6 are missing (next stored entry is 7)',
        },
      });
    });

    it('when the newest rows were deleted, then the log is truncated below its signed size', async () => {
      const { rows, heads } = await logOf(20, [8, 20]);

      expect(await verify(rows.slice(0, 17), heads)).toEqual({
        ok: false,
        failure: {
          kind: 'truncated',
          index: 17,
          treeSize: 20,
          detail: 'a tree head signs 20 entries, the log holds 17',
        },
      });
    });

    it('when two rows swapped places (their index values swapped), then the first of them is named', async () => {
      const { rows, heads } = await logOf(20, [20]);
      const [eleven, twelve] = [rows[11]!, rows[12]!];
      rows[11] = edit(twelve, { index: 11 });
      rows[12] = edit(eleven, { index: 12 });

      expect(await verify(rows, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'leaf-hash-mismatch', index: 11 },
      });
    });

    it('when two rows of different streams swapped places and no leaf hashes are kept, then the signed root catches it', async () => {
      const { rows, heads } = await logOf(20, [10, 20]);
      const bare = rows.map(({ entry }) => ({ entry }));
      const [eleven, twelve] = [bare[11]!.entry, bare[12]!.entry];
      expect(eleven.streamId).not.toBe(twelve.streamId);
      bare[11] = { entry: { ...twelve, index: 11 } };
      bare[12] = { entry: { ...eleven, index: 12 } };

      expect(await verify(bare, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'root-mismatch', index: 10, treeSize: 20 },
      });
    });

    it('when a row appears twice, then the order is broken at the copy', async () => {
      const { rows, heads } = await logOf(20, [20]);
      rows.splice(8, 0, rows[7]!);

      expect(await verify(rows, heads)).toMatchObject({
        ok: false,
        failure: {
          kind: 'order-broken',
          index: 8,
          detail: 'entry 8 expected, found 7 again or out of order',
        },
      });
    });
  });

  describe('given tree heads that are wrong', () => {
    it('when a head was edited after signing, then it is named with its size, after the entries it covers', async () => {
      const { rows, heads } = await logOf(20, [8, 15]);
      const edited = { ...heads[1]!, timestamp: '2030-01-01T00:00:00.000Z' };

      expect(await verify(rows, [heads[0]!, edited])).toMatchObject({
        ok: false,
        failure: {
          kind: 'tree-head-invalid',
          index: 8,
          treeSize: 15,
          detail: expect.stringMatching(/signature/),
        },
      });
    });

    it('when a head was signed by another key, then it is refused', async () => {
      const entries = sampleEntries(20);
      const otherKey = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);
      const forged = await headsAt(await treeOf(entries), [20], otherKey);

      expect(await verify(rowsOf(entries), forged)).toMatchObject({
        ok: false,
        failure: { kind: 'tree-head-invalid', treeSize: 20, detail: expect.stringMatching(/signed by key/) },
      });
    });

    it("when a head is another tenant's, then it is refused", async () => {
      const entries = sampleEntries(5);
      const theirs = await headsAt(await treeOf(entries), [5], key, 'other');

      expect(await verify(rowsOf(entries), theirs)).toMatchObject({
        ok: false,
        failure: { kind: 'tree-head-invalid' },
      });
    });

    it('when a head is malformed, then it is refused before any entry is read', async () => {
      const { rows, heads } = await logOf(5, [5]);

      expect(await verify(rows, [{ ...heads[0]!, treeSize: -1 }])).toMatchObject({
        ok: false,
        failure: { kind: 'tree-head-invalid', index: null },
      });
    });

    it('when the log was forked (rewritten from entry 10 on, hashes and all), then the signed head catches it', async () => {
      const { rows, heads } = await logOf(20, [8, 15, 20]);
      const forked = rows.map((row, i) =>
        i >= 10 ? consistentEdit(row, { type: 'conversation.forked.v1' }) : row,
      );

      expect(await verify(forked, heads)).toMatchObject({
        ok: false,
        failure: { kind: 'root-mismatch', index: 8, treeSize: 15 },
      });
    });
  });

  it('reports the first failure in log order: an edited entry before a bad head', async () => {
    const { rows, heads } = await logOf(20, [8, 15]);
    rows[3] = edit(rows[3]!, { sequence: 99 });
    const badHead: SignedTreeHead = { ...heads[1]!, rootHash: '0'.repeat(64) };

    expect(await verify(rows, [heads[0]!, badHead])).toMatchObject({ ok: false, failure: { index: 3 } });
  });

  describe('every tamper at every position of logs of 1..24 entries is caught and located', () => {
    it('edits (with or without the leaf hash recomputed) and deletions', async () => {
      for (let size = 1; size <= 24; size += 1) {
        const { rows, heads } = await logOf(size, [size]);
        for (let index = 0; index < size; index += 1) {
          const edited = rows.with(
            index,
            edit(rows[index]!, { eventId: rows[(index + 1) % size]!.entry.eventId }),
          );
          const rewritten = rows.with(index, consistentEdit(rows[index]!, { dataHash: 'f'.repeat(64) }));
          const deleted = rows.toSpliced(index, 1);

          if (size > 1) {
            expect(await verify(edited, heads)).toMatchObject({
              failure: { kind: 'leaf-hash-mismatch', index },
            });
          }
          expect(await verify(rewritten, heads)).toMatchObject({
            failure: { kind: 'root-mismatch', index: 0 },
          });
          expect(await verify(deleted, heads)).toMatchObject({
            failure: { kind: index === size - 1 ? 'truncated' : 'missing-index', index },
          });
        }
      }
    });
  });
});
