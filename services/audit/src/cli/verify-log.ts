/**
 * Verifies a tenant's audit log where it lives, in PostgreSQL: recomputes every leaf and the root at
 * every signed tree head, checks the signatures, and names the first bad entry.
 *   npm run audit:verify-log -- <tenant-id> [--public-key <file>]
 * The key file holds the log's public key (PEM, or the raw 32 bytes in base64 or hex); without it the
 * public half of AUDIT_SIGNING_KEY is used. Needs DATABASE_URL. Exit 0: intact; 1: the first failure
 * is printed; 2: bad usage.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseAuditSigningKey, parsePublicKey, verifyLog, type LogVerification } from '@libs/audit-log';
import { CommonConfig, loadConfigOrExit } from '@libs/config';
import { withDataSource } from '@libs/event-store';
import { readLogPages, treeHeadsOf } from '../audit-log/audit-log.repository';

const USAGE = 'usage: npm run audit:verify-log -- <tenant-id> [--public-key <file>]\n';

export function describeLogVerification(tenantId: string, result: LogVerification): string {
  if (!result.ok) {
    const { kind, index, treeSize, detail } = result.failure;
    const where = [
      index === null ? null : `entry ${index}`,
      treeSize === undefined ? null : `head ${treeSize}`,
    ]
      .filter((part) => part !== null)
      .join(', ');
    return `FAILED ${kind}${where === '' ? '' : ` (${where})`}: ${detail}\n`;
  }
  return (
    `OK the log of ${tenantId} holds ${result.entries} entries with root ${result.rootHash}; ` +
    `${result.treeHeads} signed heads verified, ${result.unsignedEntries} entries not yet signed\n`
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--public-key');
  const keyFile = flag === -1 ? undefined : args[flag + 1];
  if (flag !== -1) args.splice(flag, 2);
  const [tenantId, ...extra] = args;
  if (!tenantId || extra.length > 0 || (flag !== -1 && keyFile === undefined)) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const config = loadConfigOrExit(
    z.object({ DATABASE_URL: CommonConfig.DATABASE_URL, AUDIT_SIGNING_KEY: z.string().optional() }),
  );
  const publicKey =
    keyFile !== undefined
      ? parsePublicKey(readFileSync(keyFile, 'utf8'))
      : config.AUDIT_SIGNING_KEY !== undefined
        ? parseAuditSigningKey(config.AUDIT_SIGNING_KEY).publicKey
        : undefined;
  if (publicKey === undefined) {
    process.stderr.write('give --public-key <file> or set AUDIT_SIGNING_KEY\n');
    process.exit(2);
  }
  const result = await withDataSource(config.DATABASE_URL, 'audit-verify-log', async (db) =>
    verifyLog({
      tenantId,
      entries: readLogPages(db, tenantId),
      treeHeads: await treeHeadsOf(db, tenantId),
      publicKey,
    }),
  );
  process.stdout.write(describeLogVerification(tenantId, result));
  process.exit(result.ok ? 0 : 1);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `audit:verify-log failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
