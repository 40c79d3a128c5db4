import { fixedSigningKey, headsAt, sampleEntries, TENANT, treeOf } from './audit-log.fixture';
import {
  createAuditExport,
  verifyAuditExport,
  type AuditExportFiles,
  type ExportedEntry,
} from './audit-export';
import { AuditEntrySchema, hashEventData } from './audit-entry';
import { canonicalJson } from './canonical-json';
import { MerkleTree } from './merkle-tree';
import { InMemoryMerkleStore } from './merkle-store';
import {
  generateAuditSigningKey,
  loadAuditSigningKey,
  signWithContext,
  type SignedTreeHead,
} from './tree-head';

const key = fixedSigningKey();
const entries = sampleEntries(16);
/** The data as stored for entry i: what hashEventData saw when the entry was made (see the fixture). */
const storedData = (i: number) => ({
  text: { ciphertext: Buffer.from(`message ${i}`).toString('base64'), keyId: `k${i % 3}` },
});

async function exportOf(
  indices: readonly number[],
  withData = true,
): Promise<{ files: AuditExportFiles; head: SignedTreeHead }> {
  const tree = await treeOf(entries);
  const [head] = await headsAt(tree, [16], key);
  const exported: ExportedEntry[] = indices.map((i) =>
    withData ? { entry: entries[i]!, data: storedData(i) } : { entry: entries[i]! },
  );
  const files = await createAuditExport({
    tree,
    treeHead: head!,
    entries: exported,
    scope: { conversationId: entries[indices[0] ?? 0]!.streamId, from: '2026-01-01T00:00:00.000Z' },
    key,
  });
  return { files, head: head! };
}

const bytes = (files: AuditExportFiles) => ({
  manifest: Buffer.from(files.manifest),
  entries: Buffer.from(files.entries),
});
const verify = (files: { manifest: Uint8Array; entries: Uint8Array }, pinned = true) =>
  verifyAuditExport(files, pinned ? { publicKey: key.publicKey } : {});

describe('compliance export', () => {
  describe('given an export of one conversation (entries 2, 5, 8, 11, 14 of a signed log of 16)', () => {
    const indices = [2, 5, 8, 11, 14];

    it('when verified with the pinned public key, then every entry is proven in the signed tree', async () => {
      const { files, head } = await exportOf(indices);

      expect(verify(bytes(files))).toEqual({
        ok: true,
        entries: 5,
        treeHead: head,
        keyId: key.keyId,
        keyPinned: true,
      });
    });

    it("when verified without a key, then it verifies against the manifest's key and says the key was not pinned", async () => {
      const { files } = await exportOf(indices);

      expect(verify(bytes(files), false)).toMatchObject({ ok: true, keyPinned: false });
    });

    it('then the files are canonical and reproducible: one line per entry, a pretty but fixed manifest', async () => {
      const [first, second] = [await exportOf(indices), await exportOf(indices)];
      const lines = first.files.entries.trimEnd().split('\n');

      expect(second.files).toEqual(first.files);
      expect(lines).toHaveLength(5);
      expect(lines[0]).toBe(canonicalJson({ entry: entries[2], data: storedData(2) }));
      expect(first.files.manifest).toBe(
        `${canonicalJson(JSON.parse(first.files.manifest), { indent: 2 })}\n`,
      );
    });

    it('then entries without their data verify too (the data hash stays in the leaf)', async () => {
      const { files } = await exportOf(indices, false);

      expect(verify(bytes(files))).toMatchObject({ ok: true, entries: 5 });
    });
  });

  describe('given a file edited by one byte', () => {
    it('when any byte of either file is changed, then verification fails (every position tried)', async () => {
      const { files } = await exportOf([1, 6, 7]);
      const original = bytes(files);
      const passed: string[] = [];
      for (const name of ['manifest', 'entries'] as const) {
        for (let position = 0; position < original[name].length; position += 1) {
          const edited = Buffer.from(original[name]);
          edited[position] = edited[position]! ^ 0x01;
          if (verify({ ...original, [name]: edited }).ok) passed.push(`${name}@${position}`);
        }
      }

      expect(passed).toEqual([]);
    });

    it('when any byte is deleted or inserted, then verification fails (every position tried)', async () => {
      const { files } = await exportOf([1, 6, 7]);
      const original = bytes(files);
      const passed: string[] = [];
      for (const name of ['manifest', 'entries'] as const) {
        const file = original[name];
        for (let position = 0; position <= file.length; position += 1) {
          const deleted = Buffer.concat([file.subarray(0, position), file.subarray(position + 1)]);
          const inserted = Buffer.concat([
            file.subarray(0, position),
            Buffer.from(' '),
            file.subarray(position),
          ]);
          if (position < file.length && verify({ ...original, [name]: deleted }).ok)
            passed.push(`-${name}@${position}`);
          if (verify({ ...original, [name]: inserted }).ok) passed.push(`+${name}@${position}`);
        }
      }

      expect(passed).toEqual([]);
    });
  });

  describe('given specific tampering, then the failure names the entry and line', () => {
    const indices = [2, 5, 8, 11];

    const editLine = (
      files: AuditExportFiles,
      line: number,
      change: (value: { entry: Record<string, unknown>; data?: unknown }) => void,
    ) => {
      const lines = files.entries.split('\n');
      const value = JSON.parse(lines[line - 1]!);
      change(value);
      lines[line - 1] = canonicalJson(value);
      return { manifest: Buffer.from(files.manifest), entries: Buffer.from(lines.join('\n')) };
    };

    it('an edited entry field fails its inclusion proof', async () => {
      const { files } = await exportOf(indices);
      const edited = editLine(files, 3, (value) => {
        value.entry.type = 'conversation.closed.v1';
      });

      expect(verify(edited)).toMatchObject({
        ok: false,
        failure: {
          kind: 'inclusion-proof-failed',
          index: 8,
          line: 3,
          detail: 'entry 8 is not in the signed tree of size 16',
        },
      });
    });

    it("edited data no longer matches the entry's data hash", async () => {
      const { files } = await exportOf(indices);
      const edited = editLine(files, 2, (value) => {
        value.data = { text: { ciphertext: 'AAAA', keyId: 'k2' } };
      });

      expect(verify(edited)).toMatchObject({
        ok: false,
        failure: { kind: 'data-hash-mismatch', index: 5, line: 2 },
      });
    });

    it('a removed line leaves the next entry without its proof', async () => {
      const { files } = await exportOf(indices);
      const lines = files.entries.split('\n');
      lines.splice(1, 1);

      expect(
        verify({ manifest: Buffer.from(files.manifest), entries: Buffer.from(lines.join('\n')) }),
      ).toMatchObject({
        ok: false,
        failure: { kind: 'inclusion-proof-failed', index: 8, line: 2 },
      });
    });

    it('a removed last line is caught by the count the manifest signs', async () => {
      const { files } = await exportOf(indices);
      const lines = files.entries.trimEnd().split('\n').slice(0, -1);

      expect(
        verify({ manifest: Buffer.from(files.manifest), entries: Buffer.from(`${lines.join('\n')}\n`) }),
      ).toMatchObject({
        ok: false,
        failure: { kind: 'entry-count-mismatch' },
      });
    });

    it('swapped lines leave the first moved entry without its proof', async () => {
      const { files } = await exportOf(indices);
      const lines = files.entries.trimEnd().split('\n');
      [lines[1], lines[2]] = [lines[2]!, lines[1]!];
      const swapped = {
        manifest: Buffer.from(files.manifest),
        entries: Buffer.from(`${lines.join('\n')}\n`),
      };

      expect(verify(swapped)).toMatchObject({
        ok: false,
        failure: { kind: 'inclusion-proof-failed', index: 8, line: 2 },
      });
    });

    it('an edited scope fails the manifest signature', async () => {
      const { files } = await exportOf(indices);
      const manifest = JSON.parse(files.manifest);
      manifest.scope.from = '2025-01-01T00:00:00.000Z';

      expect(
        verify({ ...bytes(files), manifest: Buffer.from(`${canonicalJson(manifest, { indent: 2 })}\n`) }),
      ).toMatchObject({
        ok: false,
        failure: { kind: 'export-signature-invalid' },
      });
    });

    it('a manifest re-indented by an editor is refused as not canonical', async () => {
      const { files } = await exportOf(indices);
      const reformatted = JSON.stringify(JSON.parse(files.manifest), null, 4);

      expect(verify({ ...bytes(files), manifest: Buffer.from(reformatted) })).toMatchObject({
        ok: false,
        failure: { kind: 'manifest-invalid', detail: expect.stringMatching(/canonical/) },
      });
    });

    it('Windows line endings or a byte-order mark are refused', async () => {
      const { files } = await exportOf(indices);

      expect(
        verify({ ...bytes(files), entries: Buffer.from(files.entries.replaceAll('\n', '\r\n')) }).ok,
      ).toBe(false);
      expect(verify({ ...bytes(files), entries: Buffer.from(`\uFEFF${files.entries}`) }).ok).toBe(false);
    });

    it('invalid UTF-8 is refused, not replaced', async () => {
      const { files } = await exportOf(indices);
      const entriesWithBadByte = Buffer.concat([
        Buffer.from(files.entries.slice(0, 10)),
        Buffer.from([0xff]),
        Buffer.from(files.entries.slice(11)),
      ]);

      expect(verify({ ...bytes(files), entries: entriesWithBadByte })).toMatchObject({
        ok: false,
        failure: { kind: 'entry-invalid' },
      });
    });
  });

  describe('given keys', () => {
    it('when the pinned key is not the one in the manifest, then it fails before anything else', async () => {
      const { files } = await exportOf([2]);
      const other = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);

      expect(verifyAuditExport(bytes(files), { publicKey: other.publicKey })).toMatchObject({
        ok: false,
        failure: { kind: 'public-key-mismatch' },
      });
    });

    it('when someone rebuilds the whole export with their own key, then only the pinned key exposes it', async () => {
      const forger = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);
      const forgedEntries = sampleEntries(4).map((entry) =>
        AuditEntrySchema.parse({ ...entry, type: 'conversation.forged.v1' }),
      );
      const tree = await treeOf(forgedEntries);
      const [head] = await headsAt(tree, [4], forger);
      const forged = await createAuditExport({
        tree,
        treeHead: head!,
        entries: [{ entry: forgedEntries[0]! }],
        scope: null,
        key: forger,
      });

      expect(verifyAuditExport(bytes(forged))).toMatchObject({ ok: true, keyPinned: false });
      expect(verify(bytes(forged))).toMatchObject({ ok: false, failure: { kind: 'public-key-mismatch' } });
    });

    it('when the manifest swaps in another key but keeps our signatures, then the tree head names the wrong key', async () => {
      const { files } = await exportOf([2]);
      const manifest = JSON.parse(files.manifest);
      manifest.publicKey = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem).publicKey.export({
        format: 'jwk',
      }).x;
      manifest.publicKey = Buffer.from(manifest.publicKey as string, 'base64url').toString('hex');

      expect(
        verify(
          { ...bytes(files), manifest: Buffer.from(`${canonicalJson(manifest, { indent: 2 })}\n`) },
          false,
        ),
      ).toMatchObject({
        ok: false,
        failure: { kind: 'tree-head-invalid' },
      });
    });

    it('a signature made for the manifest cannot pass as a tree-head signature (separate contexts)', async () => {
      const { files } = await exportOf([2]);
      const manifest = JSON.parse(files.manifest);
      const { signature: _, ...unsignedHead } = manifest.treeHead;
      manifest.treeHead.signature = signWithContext(
        'convo-engine/audit-log/export/v1',
        canonicalJson(unsignedHead),
        key,
      );

      expect(
        verify({ ...bytes(files), manifest: Buffer.from(`${canonicalJson(manifest, { indent: 2 })}\n`) }),
      ).toMatchObject({
        ok: false,
        failure: { kind: 'tree-head-invalid' },
      });
    });
  });

  describe('createAuditExport refuses what would not verify', () => {
    it('an empty export verifies (nothing to prove, but the head and manifest are still checked)', async () => {
      const { files } = await exportOf([]);

      expect(files.entries).toBe('');
      expect(verify(bytes(files))).toMatchObject({ ok: true, entries: 0 });
    });

    it('entries beyond the signed size, out of order, of another tenant or with wrong data', async () => {
      const tree = await treeOf(entries);
      const [head] = await headsAt(tree, [8], key);
      const make = (exported: ExportedEntry[], treeHead: SignedTreeHead = head!) =>
        createAuditExport({ tree, treeHead, entries: exported, scope: null, key });

      await expect(make([{ entry: entries[9]! }])).rejects.toMatchObject({ code: 'index-out-of-range' });
      await expect(make([{ entry: entries[3]! }, { entry: entries[2]! }])).rejects.toMatchObject({
        code: 'export-invalid',
      });
      await expect(make([{ entry: { ...entries[3]!, tenantId: 'other' } }])).rejects.toMatchObject({
        code: 'export-invalid',
      });
      await expect(make([{ entry: entries[3]!, data: { not: 'it' } }])).rejects.toMatchObject({
        code: 'export-invalid',
      });
      await expect(make([], { ...head!, rootHash: hashEventData('x') })).rejects.toMatchObject({
        code: 'tree-head-invalid',
      });
      const emptyTree = new MerkleTree(new InMemoryMerkleStore());
      await expect(
        createAuditExport({ tree: emptyTree, treeHead: head!, entries: [], scope: null, key }),
      ).rejects.toMatchObject({
        code: 'tree-size-invalid',
      });
    });

    it('a head signed by another key than the one signing the manifest', async () => {
      const tree = await treeOf(entries);
      const [head] = await headsAt(tree, [8], key);
      const other = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);

      await expect(
        createAuditExport({ tree, treeHead: head!, entries: [], scope: null, key: other }),
      ).rejects.toMatchObject({
        code: 'key-invalid',
      });
    });
  });

  it('the tenant in the manifest is the tree head tenant', async () => {
    const { files } = await exportOf([2]);

    expect(JSON.parse(files.manifest)).toMatchObject({ tenantId: TENANT, treeHead: { tenantId: TENANT } });
  });
});
