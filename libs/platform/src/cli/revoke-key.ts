/**
 * Revokes an API key by its id (the `keyId` printed by tenant:create). Gateways stop accepting it
 * within API_KEY_CACHE_TTL_MS (30 s by default).
 *   npm run tenant:revoke-key -- <keyId>
 */
import 'reflect-metadata';
import { z } from 'zod';
import { CommonConfig, loadConfigOrExit } from '@libs/config';
import { TenantRepository, withDataSource } from '@libs/event-store';

async function main(): Promise<void> {
  const keyId = z.uuid().safeParse(process.argv[2]);
  if (!keyId.success) {
    process.stderr.write('usage: npm run tenant:revoke-key -- <keyId>\n');
    process.exit(2);
  }
  const config = loadConfigOrExit(z.object({ DATABASE_URL: CommonConfig.DATABASE_URL }));
  const revoked = await withDataSource(config.DATABASE_URL, 'revoke-key', (db) =>
    new TenantRepository(db).revokeApiKey(keyId.data),
  );
  process.stdout.write(`${JSON.stringify({ keyId: keyId.data, revoked })}\n`);
  if (!revoked) process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `tenant:revoke-key failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
