import { Client } from 'pg';
import type { StoredEvent } from '@contracts';
import { OUTBOX_CHANNEL, rowToStored, type StoredEventRow } from './postgres-event-store';

export interface OutboxEntry {
  outboxId: string;
  topic: string;
  /** Exactly as stored: a published event is never rewritten, readers upcast it themselves. */
  event: StoredEvent;
}

/** Any stable number: the relay that holds this advisory lock is the only one publishing. */
const RELAY_LOCK_KEY = 7_140_391;

/**
 * The relay's own PostgreSQL session: it holds the leader lock, LISTENs for appends (once it leads)
 * and reads the outbox in append order. One dedicated connection, because LISTEN and session locks
 * live on it.
 */
export class OutboxReader {
  private client: Client | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName: string,
  ) {}

  async connect(onAppended: () => void, onError: (error: Error) => void): Promise<void> {
    await this.close();
    const client = new Client({ connectionString: this.databaseUrl, application_name: this.applicationName });
    client.on('notification', () => onAppended());
    client.on('error', onError);
    await client.connect();
    this.client = client;
  }

  /**
   * From now on every append calls `onAppended`. Only the leader listens: PostgreSQL wakes every
   * listening session on every append, and a standby has nothing to do with it.
   */
  async listen(): Promise<void> {
    await this.connected().query(`LISTEN ${OUTBOX_CHANNEL}`);
  }

  /** True when this process is (or just became) the publishing relay. */
  async tryBecomeLeader(): Promise<boolean> {
    const rows = await this.connected().query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [RELAY_LOCK_KEY],
    );
    return rows.rows[0]?.locked === true;
  }

  async nextBatch(limit: number): Promise<OutboxEntry[]> {
    const rows = await this.connected().query<StoredEventRow & { outbox_id: string; topic: string }>(
      `SELECT o.id AS outbox_id, o.topic, e.global_position, e.event_id, e.tenant_id, e.stream_id, e.sequence,
              e.type, e.occurred_at, e.causation_id, e.correlation_id, e.data
         FROM outbox o JOIN events e ON e.global_position = o.global_position
        ORDER BY o.id LIMIT $1`,
      [limit],
    );
    return rows.rows.map((row) => ({ outboxId: row.outbox_id, topic: row.topic, event: rowToStored(row) }));
  }

  async markPublished(outboxIds: string[]): Promise<void> {
    await this.connected().query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [outboxIds]);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private connected(): Client {
    if (!this.client) throw new Error('outbox reader is not connected');
    return this.client;
  }
}
