import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  PostgresEventStore,
  TenantRepository,
  TenantSettingsStreams,
  createDataSource,
} from '@libs/event-store';
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

/**
 * Gives a tenant one intent that needs no slots, so every customer message is answered by the model.
 * For suites about a turn's plumbing rather than understanding: the small local classifier would
 * otherwise send some messages to a slot question instead of a reply.
 */
export async function answerEveryMessage(
  db: DataSource,
  tenantId: string,
  examples: string[],
  options: { fastPathMinConfidence?: number } = {},
): Promise<void> {
  await new TenantSettingsStreams(new PostgresEventStore(db)).replace(tenantId, randomUUID(), {
    ...options,
    intents: [
      {
        name: 'product_question',
        description: 'Any question about the shop, its products, policies or services.',
        examples,
        slots: [],
        handoff: false,
      },
    ],
  });
}

/**
 * The transactions of the whole cluster that hold back read-all's horizon (its snapshot's xmin is
 * cluster-wide), oldest first: what a test that waited for read-all in vain prints.
 */
export async function transactionsHoldingTheHorizon(db: DataSource): Promise<string> {
  const rows: { datname: string; pid: number; state: string; age: string; query: string }[] = await db.query(
    `SELECT datname, pid, state, (now() - xact_start)::text AS age, left(query, 120) AS query
       FROM pg_stat_activity
      WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
      ORDER BY xact_start`,
  );
  return rows.length === 0
    ? 'no other transaction holds an xid'
    : rows.map((row) => `${row.datname} pid ${row.pid} ${row.state} for ${row.age}: ${row.query}`).join('\n');
}
