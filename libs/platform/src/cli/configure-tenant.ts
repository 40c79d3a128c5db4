/**
 * Replaces a tenant's settings (system prompt, history limit, reply length): one new version of its
 * settings stream, which conversations started from now on run under. Same settings: no new version.
 *   npm run tenant:configure -- <tenant-id> '{"systemPrompt":"…","historyLimit":8,"replyMaxTokens":300}'
 * Prints {"tenantId","version","status"}.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TenantSettingsSchema } from '@contracts';
import { CommonConfig, loadConfigOrExit } from '@libs/config';
import { PostgresEventStore, TenantSettingsStreams, withDataSource } from '@libs/event-store';

async function main(): Promise<void> {
  const [tenantId, json] = process.argv.slice(2);
  if (!tenantId || json === undefined) {
    process.stderr.write(`usage: npm run tenant:configure -- <tenant-id> '<settings JSON>'\n`);
    process.exit(2);
  }
  const settings = TenantSettingsSchema.safeParse(JSON.parse(json));
  if (!settings.success) {
    process.stderr.write(`invalid settings:\n${z.prettifyError(settings.error)}\n`);
    process.exit(2);
  }
  const config = loadConfigOrExit(z.object({ DATABASE_URL: CommonConfig.DATABASE_URL }));
  await withDataSource(config.DATABASE_URL, 'configure-tenant', async (db) => {
    const streams = new TenantSettingsStreams(new PostgresEventStore(db));
    const result = await streams.replace(tenantId, randomUUID(), settings.data);
    process.stdout.write(`${JSON.stringify({ tenantId, version: result.version, status: result.status })}\n`);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `tenant:configure failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
