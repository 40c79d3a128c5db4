import { Client } from 'pg';

/** Any stable number: the sessions replica holding this advisory lock is the one firing timers. */
const TIMER_LOCK_KEY = 7_140_392;

/**
 * The timer leader's own PostgreSQL session: the advisory lock lives on it, so when the process dies
 * the lock goes with its connection and another replica takes over.
 */
export class TimerLeaderLock {
  private client: Client | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName: string,
  ) {}

  async tryAcquire(): Promise<boolean> {
    if (!this.client) {
      const client = new Client({
        connectionString: this.databaseUrl,
        application_name: this.applicationName,
      });
      client.on('error', () => void this.release());
      await client.connect();
      this.client = client;
    }
    const rows = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      TIMER_LOCK_KEY,
    ]);
    return rows.rows[0]?.locked === true;
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
