/**
 * Creates (or renames) a tenant and issues it a new API key, printed once as JSON.
 *   npm run tenant:create -- <tenant-id> [display name]
 * The key is shown only here; the database keeps its SHA-256.
 */
import 'reflect-metadata';
import { z } from 'zod';
import { CommonConfig, loadConfigOrExit } from '@libs/config';
import { TenantRepository, withDataSource } from '@libs/event-store';

async function main(): Promise<void> {
  const [tenantId, ...nameParts] = process.argv.slice(2);
  if (!tenantId) {
    process.stderr.write('usage: npm run tenant:create -- <tenant-id> [display name]\n');
    process.exit(2);
  }
  const config = loadConfigOrExit(z.object({ DATABASE_URL: CommonConfig.DATABASE_URL }));
  await withDataSource(config.DATABASE_URL, 'create-tenant', async (db) => {
    const tenants = new TenantRepository(db);
    const tenant = await tenants.createTenant(tenantId, nameParts.join(' ') || tenantId);
    const key = await tenants.issueApiKey(tenant.id, 'created by tenant:create');
    process.stdout.write(
      `${JSON.stringify({ tenantId: tenant.id, name: tenant.name, keyId: key.keyId, apiKey: key.apiKey })}\n`,
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`tenant:create failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
