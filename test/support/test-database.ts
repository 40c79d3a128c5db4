import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { TenantRepository, createDataSource } from '@libs/event-store';
import type { Role } from '@contracts';

/**
 * Each integration suite gets a fresh database on the real PostgreSQL of the local stack
 * (deploy/local/up, or `npm test`, starts it). No server means a failing test, not a skipped one.
 */
export function adminDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('DATABASE_URL is not set: run the tests through `npm test`, which starts the stack');
  return url;
}

export interface TestDatabase {
  url: string;
  name: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const admin = new URL(adminDatabaseUrl());
  const name = `test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const dataSource = createDataSource(url.toString(), `test-${label}`, 10);
  await dataSource.initialize();
  await dataSource.runMigrations();
  return {
    url: url.toString(),
    name,
    dataSource,
    async drop() {
      await dataSource.destroy();
      await withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export async function createTenantWithKey(db: DataSource, tenantId: string, role?: Role): Promise<string> {
  const tenants = new TenantRepository(db);
  await tenants.createTenant(tenantId, tenantId);
  return (await tenants.issueApiKey(tenantId, '', role)).apiKey;
}

async function withAdmin(url: URL, run: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}
