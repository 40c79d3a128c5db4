/**
 * Verifies a compliance export offline, from its files alone:
 *   npm run audit:verify -- <export-dir | manifest.json> [--public-key <file>]
 * The key file holds the log's Ed25519 public key (PEM, or the raw 32 bytes in base64 or hex), obtained
 * out of band; without it the manifest's own key is used, which shows the files are intact but not who
 * signed them. Exit code 0: every entry verified; 1: the first failure is printed; 2: bad usage.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENTRIES_FILE, MANIFEST_FILE, parsePublicKey, verifyAuditExport, type ExportVerification } from '..';

const USAGE = 'usage: npm run audit:verify -- <export-dir | manifest.json> [--public-key <file>]\n';

export function parseArguments(
  argv: readonly string[],
): { target: string; publicKeyFile?: string } | undefined {
  const rest = [...argv];
  let publicKeyFile: string | undefined;
  const flag = rest.indexOf('--public-key');
  if (flag !== -1) {
    publicKeyFile = rest[flag + 1];
    if (publicKeyFile === undefined) return undefined;
    rest.splice(flag, 2);
  }
  const [target, ...extra] = rest;
  if (target === undefined || extra.length > 0 || target.startsWith('--')) return undefined;
  return publicKeyFile === undefined ? { target } : { target, publicKeyFile };
}

export function describeVerification(result: ExportVerification): string {
  if (!result.ok) {
    const { kind, index, line, detail } = result.failure;
    const where = [index === null ? null : `entry ${index}`, line === null ? null : `line ${line}`]
      .filter((part) => part !== null)
      .join(', ');
    return `FAILED ${kind}${where === '' ? '' : ` (${where})`}: ${detail}\n`;
  }
  const { treeHead } = result;
  const trust = result.keyPinned
    ? `key ${result.keyId}`
    : `the manifest's own key ${result.keyId} (pass --public-key to check who signed)`;
  return (
    `OK ${result.entries} entries of tenant ${treeHead.tenantId} are in the log of ${treeHead.treeSize} ` +
    `entries with root ${treeHead.rootHash}, signed at ${treeHead.timestamp} by ${trust}\n`
  );
}

function main(): void {
  const args = parseArguments(process.argv.slice(2));
  if (args === undefined) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const manifestPath = statSync(args.target).isDirectory() ? join(args.target, MANIFEST_FILE) : args.target;
  const publicKey =
    args.publicKeyFile === undefined ? undefined : parsePublicKey(readFileSync(args.publicKeyFile, 'utf8'));
  const result = verifyAuditExport(
    {
      manifest: readFileSync(manifestPath),
      entries: readFileSync(join(dirname(manifestPath), ENTRIES_FILE)),
    },
    publicKey === undefined ? {} : { publicKey },
  );
  process.stdout.write(describeVerification(result));
  process.exit(result.ok ? 0 : 1);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`audit:verify failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
