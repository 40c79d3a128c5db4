import { DataSource } from 'typeorm';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';

export const MIGRATIONS = [InitialSchema1763769600000];

/** The one PostgreSQL connection pool of a service. Schema changes only through migrations. */
export function createDataSource(databaseUrl: string, applicationName: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    applicationName,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
    logging: ['error'],
  });
}

/** For one-shot commands: a single connection, opened for `run` and closed after it, whatever happens. */
export async function withDataSource<T>(
  databaseUrl: string,
  applicationName: string,
  run: (db: DataSource) => Promise<T>,
): Promise<T> {
  const db = createDataSource(databaseUrl, applicationName, 1);
  await db.initialize();
  try {
    return await run(db);
  } finally {
    await db.destroy();
  }
}
