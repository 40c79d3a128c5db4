/**
 * Creates (or renames) a tenant and issues it a new API key, printed once as JSON.
 *   npm run tenant:create -- <tenant-id> [display name] [--role frontend|agent|analyst|compliance|admin]
 * The role defaults to frontend (what keys could do before roles). The key is shown only here; the database keeps its SHA-256.
 */
import 'reflect-metadata';
import { z } from 'zod';
import { CommonConfig, loadConfigOrExit } from '@libs/config';
import { DEFAULT_ROLE, ROLES, RoleSchema } from '@contracts';
import { TenantRepository, withDataSource } from '@libs/event-store';

const USAGE = `usage: npm run tenant:create -- <tenant-id> [display name] [--role ${ROLES.join('|')}]\n`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--role');
  const role = RoleSchema.safeParse(flag === -1 ? DEFAULT_ROLE : args[flag + 1]);
  if (flag !== -1) args.splice(flag, 2);
  const [tenantId, ...nameParts] = args;
  if (!tenantId || !role.success) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const config = loadConfigOrExit(z.object({ DATABASE_URL: CommonConfig.DATABASE_URL }));
  await withDataSource(config.DATABASE_URL, 'create-tenant', async (db) => {
    const tenants = new TenantRepository(db);
    const tenant = await tenants.createTenant(tenantId, nameParts.join(' ') || tenantId);
    const key = await tenants.issueApiKey(tenant.id, 'created by tenant:create', role.data);
    process.stdout.write(
      `${JSON.stringify({ tenantId: tenant.id, name: tenant.name, keyId: key.keyId, role: key.role, apiKey: key.apiKey })}\n`,
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`tenant:create failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
