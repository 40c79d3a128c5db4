import { DataSource, type MigrationInterface } from 'typeorm';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';
import { StreamsOfAnyKind1764633600000 } from './migrations/1764633600000-streams-of-any-kind';
import { AppendInOneRoundTrip1764633600300 } from './migrations/1764633600300-append-in-one-round-trip';
import { ApiKeyRoles1764720000000 } from './migrations/1764720000000-api-key-roles';
import { ConversationDataKeys1764806400500 } from './migrations/1764806400500-conversation-data-keys';

/** The shared schema: event store, outbox, inbox, checkpoints, tenants and keys. `init` applies it. */
export const MIGRATIONS = [
  InitialSchema1763769600000,
  StreamsOfAnyKind1764633600000,
  AppendInOneRoundTrip1764633600300,
  ApiKeyRoles1764720000000,
  ConversationDataKeys1764806400500,
];

/**
 * Tables one service owns (its projections, its scheduler...), migrated by that service at boot with
 * a history table of their own, so services evolve their storage independently.
 */
export interface MigrationSet {
  /** The owning service; its history table is `<owner>_migrations`. */
  owner: string;
  migrations: (new () => MigrationInterface)[];
}

/** The one PostgreSQL connection pool of a service. Schema changes only through migrations. */
export function createDataSource(
  databaseUrl: string,
  applicationName: string,
  poolSize = 10,
  migrations: MigrationSet = { owner: 'schema', migrations: MIGRATIONS },
): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    applicationName,
    synchronize: false,
    migrationsRun: false,
    migrations: migrations.migrations,
    migrationsTableName: `${migrations.owner}_migrations`,
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
    logging: ['error'],
  });
}

/** For one-shot commands: a single connection, opened for `run` and closed after it, whatever happens. */
export async function withDataSource<T>(
  databaseUrl: string,
  applicationName: string,
  run: (db: DataSource) => Promise<T>,
  migrations?: MigrationSet,
): Promise<T> {
  const db = createDataSource(databaseUrl, applicationName, 1, migrations);
  await db.initialize();
  try {
    return await run(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Applies a service's own migrations. Replicas booting together take turns on an advisory lock, so
 * each migration runs once; the shared schema must already be in place (`init`).
 */
export async function migrateOwnTables(databaseUrl: string, set: MigrationSet): Promise<string[]> {
  return withDataSource(
    databaseUrl,
    `${set.owner}-migrate`,
    async (db) => {
      await db.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${set.owner}`]);
      try {
        const applied = await db.runMigrations({ transaction: 'each' });
        return applied.map((migration) => migration.name);
      } finally {
        await db.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${set.owner}`]);
      }
    },
    set,
  );
}
