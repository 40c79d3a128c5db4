import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { TenantIdSchema } from '@contracts';
import { AuditLogError } from './audit-log.error';
import { auditLeafHash, AuditEntrySchema, hashEventData, type AuditEntry } from './audit-entry';
import { canonicalJson } from './canonical-json';
import { fromHexHash, isHexHash, sha256, toHex } from './merkle-hash';
import { verifyInclusionProof } from './merkle-proof';
import type { MerkleTree } from './merkle-tree';
import {
  parsePublicKey,
  rawPublicKey,
  SignedTreeHeadSchema,
  signWithContext,
  verifyTreeHead,
  verifyWithContext,
  type AuditSigningKey,
  type SignedTreeHead,
} from './tree-head';

/**
 * A compliance export: `entries.jsonl` (one entry per line, with the event's stored data when the
 * export includes it, and its readable rendering when that differs) and `manifest.json` (the signed tree head, the log's public key and every
 * entry's inclusion proof). Verifiable offline with only these files and the public key, without the
 * rest of the log: each entry is proven to be in the signed tree.
 *
 * One edited byte anywhere fails: both files must be in canonical form (so even whitespace is fixed),
 * every entry field is in its leaf, data is bound by its hash, proofs lead to the signed root, and
 * the manifest, which names the entries file's SHA-256, is signed by the log key as a whole.
 */
export const EXPORT_FORMAT = 'convo-engine.audit-export.v1';
export const MANIFEST_FILE = 'manifest.json';
export const ENTRIES_FILE = 'entries.jsonl';
const EXPORT_CONTEXT = 'convo-engine/audit-log/export/v1';

const HexHash = z.string().refine(isHexHash, 'a lowercase hex SHA-256');

export const ExportManifestSchema = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    tenantId: TenantIdSchema,
    /** What was exported (conversation, time range...), as the exporter describes it. */
    scope: z.record(z.string(), z.unknown()).nullable(),
    treeHead: SignedTreeHeadSchema,
    /** The raw 32-byte Ed25519 key, hex (base64's spare bits would let an edited key decode the same). */
    publicKey: z.string().regex(/^[0-9a-f]{64}$/, '32 bytes of lowercase hex'),
    entries: z
      .object({ file: z.literal(ENTRIES_FILE), count: z.number().int().min(0), sha256: HexHash })
      .strict(),
    /** proofs[i] is the audit path of the entry on line i + 1, against treeHead. */
    proofs: z.array(z.object({ index: z.number().int().min(0), path: z.array(HexHash) }).strict()),
    /** The log key's signature over the canonical JSON of every other field. */
    signature: z.string().regex(/^[0-9a-f]{128}$/, '64 bytes of lowercase hex'),
  })
  .strict();
export type ExportManifest = z.infer<typeof ExportManifestSchema>;

const ExportLineSchema = z
  .object({ entry: z.unknown(), data: z.unknown().optional(), readable: z.unknown().optional() })
  .strict();

export interface ExportedEntry {
  entry: AuditEntry;
  /** The event's data as stored (customer text sealed); its hash must be entry.dataHash. */
  data?: unknown;
  /**
   * The exporter's reading of `data` with its personal fields opened ([erased] once the conversation
   * was erased), for people. Not in the leaf (it changes when a key is shredded, the leaf never does):
   * bound by the entries file's hash in the signed manifest only, so it vouches for what the log's
   * key holder read, while `data` is proven against the tree.
   */
  readable?: unknown;
}

export interface AuditExportFiles {
  manifest: string;
  entries: string;
}

/**
 * Builds both files for entries of one tenant, proven against `treeHead` (the newest signed head,
 * whose size covers every entry). The proofs are read from `tree` in one store call.
 */
export async function createAuditExport(input: {
  tree: MerkleTree;
  treeHead: SignedTreeHead;
  entries: readonly ExportedEntry[];
  scope: Record<string, unknown> | null;
  key: AuditSigningKey;
}): Promise<AuditExportFiles> {
  const { treeHead, entries, key } = input;
  if (treeHead.keyId !== key.keyId)
    throw new AuditLogError('key-invalid', 'the tree head is not signed by this key');
  if (toHex(await input.tree.root(treeHead.treeSize)) !== treeHead.rootHash) {
    throw new AuditLogError('tree-head-invalid', 'the tree head does not match the tree at its size');
  }
  entries.forEach(({ entry, data }, i) => {
    if (entry.tenantId !== treeHead.tenantId)
      throw new AuditLogError('export-invalid', 'entries of another tenant');
    if (i > 0 && entry.index <= entries[i - 1]!.entry.index) {
      throw new AuditLogError('export-invalid', 'export entries must be in increasing index order');
    }
    if (data !== undefined && hashEventData(data) !== entry.dataHash) {
      throw new AuditLogError('export-invalid', `the data of entry ${entry.index} does not match its hash`);
    }
  });
  const proofs = await input.tree.inclusionProofs(
    entries.map(({ entry }) => entry.index),
    treeHead.treeSize,
  );
  const entriesText = entries.map((line) => `${canonicalJson(line)}\n`).join('');
  const unsigned: Omit<ExportManifest, 'signature'> = {
    format: EXPORT_FORMAT,
    tenantId: treeHead.tenantId,
    scope: input.scope,
    treeHead,
    publicKey: rawPublicKey(key.publicKey).toString('hex'),
    entries: { file: ENTRIES_FILE, count: entries.length, sha256: toHex(sha256(Buffer.from(entriesText))) },
    proofs: entries.map(({ entry }, i) => ({ index: entry.index, path: proofs[i]!.map(toHex) })),
  };
  const signature = signWithContext(EXPORT_CONTEXT, canonicalJson(unsigned), key);
  return { manifest: manifestText({ ...unsigned, signature }), entries: entriesText };
}

function manifestText(manifest: ExportManifest): string {
  return `${canonicalJson(manifest, { indent: 2 })}\n`;
}

export type ExportFailureKind =
  | 'manifest-invalid'
  | 'public-key-mismatch'
  | 'tree-head-invalid'
  | 'entry-invalid'
  | 'tenant-mismatch'
  | 'order-broken'
  | 'data-hash-mismatch'
  | 'inclusion-proof-failed'
  | 'entry-count-mismatch'
  | 'entries-file-hash-mismatch'
  | 'export-signature-invalid';

export interface ExportFailure {
  kind: ExportFailureKind;
  /** The entry's log index, when the failure is about one entry. */
  index: number | null;
  /** 1-based line of entries.jsonl, when the failure is about one line. */
  line: number | null;
  detail: string;
}

export type ExportVerification =
  | {
      ok: true;
      entries: number;
      treeHead: SignedTreeHead;
      keyId: string;
      /** False when no key was given and the manifest's own key was used: then only integrity is shown. */
      keyPinned: boolean;
    }
  | { ok: false; failure: ExportFailure };

/**
 * Verifies an export from its two files' bytes. `publicKey` is the key obtained out of band; without
 * it the manifest's key is used, which proves the files are intact but not who signed them.
 */
export function verifyAuditExport(
  files: { manifest: Uint8Array; entries: Uint8Array },
  options: { publicKey?: KeyObject } = {},
): ExportVerification {
  const manifest = readManifest(files.manifest);
  if ('failure' in manifest) return manifest;
  const { value } = manifest;

  let manifestKey: KeyObject;
  try {
    manifestKey = parsePublicKey(value.publicKey);
  } catch (error) {
    return fail('manifest-invalid', null, null, `the manifest's public key: ${(error as Error).message}`);
  }
  if (options.publicKey !== undefined && !rawPublicKey(options.publicKey).equals(rawPublicKey(manifestKey))) {
    return fail(
      'public-key-mismatch',
      null,
      null,
      'the manifest names another public key than the one given',
    );
  }
  const key = options.publicKey ?? manifestKey;
  const head = verifyTreeHead(value.treeHead, key);
  if (!head.ok) return fail('tree-head-invalid', null, null, head.reason);
  if (value.treeHead.tenantId !== value.tenantId) {
    return fail('tree-head-invalid', null, null, `the tree head is for ${value.treeHead.tenantId}`);
  }

  const lines = readLines(files.entries);
  if ('failure' in lines) return lines;
  const root = fromHexHash(value.treeHead.rootHash);
  let previousIndex = -1;
  for (const [i, text] of lines.value.entries()) {
    const line = i + 1;
    const checked = checkLine(text, line, value, previousIndex, root);
    if ('failure' in checked) return checked;
    previousIndex = checked.index;
  }
  if (lines.value.length !== value.entries.count || value.proofs.length !== value.entries.count) {
    return fail(
      'entry-count-mismatch',
      null,
      null,
      `the manifest lists ${value.entries.count} entries and ${value.proofs.length} proofs, the file has ${lines.value.length} lines`,
    );
  }
  if (toHex(sha256(files.entries)) !== value.entries.sha256) {
    return fail(
      'entries-file-hash-mismatch',
      null,
      null,
      `${ENTRIES_FILE} is not the file the manifest names`,
    );
  }
  const { signature, ...unsigned } = value;
  if (!verifyWithContext(EXPORT_CONTEXT, canonicalJson(unsigned), signature, key)) {
    return fail('export-signature-invalid', null, null, 'the manifest is not signed by the log key as it is');
  }
  return {
    ok: true,
    entries: lines.value.length,
    treeHead: value.treeHead,
    keyId: value.treeHead.keyId,
    keyPinned: options.publicKey !== undefined,
  };
}

function readManifest(bytes: Uint8Array): { value: ExportManifest } | { ok: false; failure: ExportFailure } {
  const text = decodeUtf8(bytes);
  if (text === undefined) return fail('manifest-invalid', null, null, `${MANIFEST_FILE} is not UTF-8`);
  const json = parseJson(text);
  if (!json.ok) return fail('manifest-invalid', null, null, `${MANIFEST_FILE} is not JSON: ${json.reason}`);
  const parsed = ExportManifestSchema.safeParse(json.value);
  if (!parsed.success) {
    return fail('manifest-invalid', null, null, `${MANIFEST_FILE}: ${z.prettifyError(parsed.error)}`);
  }
  if (manifestText(parsed.data) !== text) {
    return fail('manifest-invalid', null, null, `${MANIFEST_FILE} is not in canonical form (edited?)`);
  }
  return { value: parsed.data };
}

function readLines(bytes: Uint8Array): { value: string[] } | { ok: false; failure: ExportFailure } {
  const text = decodeUtf8(bytes);
  if (text === undefined) return fail('entry-invalid', null, null, `${ENTRIES_FILE} is not UTF-8`);
  if (text === '') return { value: [] };
  if (!text.endsWith('\n'))
    return fail('entry-invalid', null, null, `${ENTRIES_FILE} does not end with a newline`);
  return { value: text.slice(0, -1).split('\n') };
}

function checkLine(
  text: string,
  line: number,
  manifest: ExportManifest,
  previousIndex: number,
  root: Buffer,
): { index: number } | { ok: false; failure: ExportFailure } {
  const json = parseJson(text);
  if (!json.ok) return fail('entry-invalid', null, line, `line ${line} is not JSON: ${json.reason}`);
  const shape = ExportLineSchema.safeParse(json.value);
  const parsed = shape.success ? AuditEntrySchema.safeParse(shape.data.entry) : undefined;
  if (!shape.success || !parsed?.success) {
    return fail('entry-invalid', null, line, `line ${line} is not an exported entry`);
  }
  const entry = parsed.data;
  const { index } = entry;
  if (canonicalJson(json.value) !== text) {
    return fail('entry-invalid', index, line, `line ${line} is not in canonical form (edited?)`);
  }
  if (entry.tenantId !== manifest.tenantId) {
    return fail('tenant-mismatch', index, line, `entry ${index} belongs to ${entry.tenantId}`);
  }
  if (index <= previousIndex) {
    return fail('order-broken', index, line, `entry ${index} comes after entry ${previousIndex}`);
  }
  if (shape.data.data !== undefined && hashEventData(shape.data.data) !== entry.dataHash) {
    return fail('data-hash-mismatch', index, line, `the data of entry ${index} does not match its dataHash`);
  }
  const proof = manifest.proofs[line - 1];
  if (proof?.index !== index) {
    return fail(
      'inclusion-proof-failed',
      index,
      line,
      `the manifest has no proof for entry ${index} at line ${line}`,
    );
  }
  const path = proof.path.map(fromHexHash);
  if (!verifyInclusionProof(index, manifest.treeHead.treeSize, auditLeafHash(entry), path, root)) {
    return fail(
      'inclusion-proof-failed',
      index,
      line,
      `entry ${index} is not in the signed tree of size ${manifest.treeHead.treeSize}`,
    );
  }
  return { index };
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function fail(
  kind: ExportFailureKind,
  index: number | null,
  line: number | null,
  detail: string,
): { ok: false; failure: ExportFailure } {
  return { ok: false, failure: { kind, index, line, detail } };
}
