import type { DataSource, EntityManager } from 'typeorm';
import {
  AppError,
  TOPIC_OF_KIND,
  kindOfType,
  upcast,
  validateStoredEvent,
  type EngineEvent,
  type EventsOfKind,
  type PendingEvent,
  type StoredEvent,
  type StreamKind,
} from '@contracts';
import {
  EventStore,
  envelopeOf,
  ofKind,
  streamIdField,
  type AppendResult,
  type AppendTarget,
  type GlobalPosition,
  type ReadOptions,
  type RecordedEvent,
  type StreamRef,
} from './event-store';

export interface StoredEventRow {
  global_position: string;
  transaction_id?: string;
  event_id: string;
  tenant_id: string;
  stream_id: string;
  /** bigint: pg returns it as a string. */
  sequence: string | number;
  type: string;
  occurred_at: Date;
  causation_id: string | null;
  correlation_id: string;
  data: unknown;
}

/** A stored row exactly as it was written (any version), validated against its own schema. */
export function rowToStored(row: StoredEventRow): StoredEvent {
  const kind = kindOfType(row.type);
  const result = validateStoredEvent({
    eventId: row.event_id,
    type: row.type,
    tenantId: row.tenant_id,
    ...(kind ? streamIdField(kind, row.stream_id) : { conversationId: row.stream_id }),
    sequence: Number(row.sequence),
    occurredAt: row.occurred_at.toISOString(),
    causationId: row.causation_id,
    correlationId: row.correlation_id,
    data: row.data,
  });
  if (!result.ok) {
    throw new AppError('stream-corrupted', `stored event ${row.event_id} is invalid: ${result.detail}`);
  }
  return result.event;
}

/** The upcasting hook: the one way a stored row becomes what readers see, at the current version. */
export function rowToEnvelope(row: StoredEventRow): EngineEvent {
  return upcast(rowToStored(row));
}

export const OUTBOX_CHANNEL = 'outbox_appended';
const EVENT_COLUMNS =
  'global_position, event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id, correlation_id, data';
const MAX_READ = 1_000_000;

/**
 * Append-only event streams in PostgreSQL. An append writes the events and their outbox rows in one
 * transaction; the relay publishes them to Kafka afterwards (no dual write).
 */
export class PostgresEventStore extends EventStore {
  constructor(
    private readonly db: DataSource,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
  }

  async append<K extends StreamKind>(
    target: AppendTarget<K>,
    pending: readonly PendingEvent<K>[],
  ): Promise<AppendResult<K>> {
    if (pending.length === 0) throw new Error('append needs at least one event');
    // Validate before touching the database: a bad event is validation-failed, never a query error.
    const occurredAt = this.now().toISOString();
    pending.forEach((event, index) => envelopeOf(target, event, index + 1, occurredAt));
    return this.db.transaction('READ COMMITTED', async (tx) => {
      const stream = await this.lockStream(tx, target);
      const eventIds = pending.map((event) => event.eventId);
      const existing: { event_id: string }[] = await tx.query(
        'SELECT event_id FROM events WHERE event_id = ANY($1::uuid[])',
        [eventIds],
      );
      if (existing.length === pending.length) return { status: 'duplicate', version: stream.version };
      if (existing.length > 0) {
        throw new AppError('concurrency-conflict', 'part of this batch was already appended', { eventIds });
      }
      if (target.expectedVersion !== 'any' && target.expectedVersion !== stream.version) {
        throw new AppError('concurrency-conflict', 'the stream changed since it was read', {
          expectedVersion: target.expectedVersion,
          actualVersion: stream.version,
        });
      }
      const events = pending.map((event, index) =>
        envelopeOf(target, event, stream.version + index + 1, occurredAt),
      );
      const positions = await this.insertEvents(tx, target, events);
      const version = stream.version + events.length;
      await tx.query(
        'UPDATE streams SET version = $3, updated_at = now() WHERE tenant_id = $1 AND stream_id = $2',
        [target.tenantId, target.streamId, version],
      );
      await tx.query(`INSERT INTO outbox (global_position, topic) SELECT unnest($1::bigint[]), $2`, [
        positions,
        TOPIC_OF_KIND[target.kind],
      ]);
      await tx.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
      return { status: 'appended', events, version };
    });
  }

  async read<K extends StreamKind>(
    kind: K,
    ref: StreamRef,
    options: ReadOptions = {},
  ): Promise<EventsOfKind[K][]> {
    const rows: StoredEventRow[] = await this.db.query(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE tenant_id = $1 AND stream_id = $2 AND sequence > $3 AND sequence <= $4
        ORDER BY sequence LIMIT $5`,
      [
        ref.tenantId,
        ref.streamId,
        options.afterSequence ?? 0,
        options.toSequence ?? Number.MAX_SAFE_INTEGER,
        options.limit ?? MAX_READ,
      ],
    );
    return ofKind(kind, rows.map(rowToEnvelope));
  }

  async streamVersion(ref: StreamRef): Promise<number | null> {
    const rows: { version: string }[] = await this.db.query(
      'SELECT version FROM streams WHERE tenant_id = $1 AND stream_id = $2',
      [ref.tenantId, ref.streamId],
    );
    return rows[0] ? Number(rows[0].version) : null;
  }

  /**
   * Gap-safe: ordered by (writing transaction, position), and only events of transactions older than
   * every transaction still running (the snapshot's xmin) are returned. An event committed later can
   * therefore never sort before one already returned, whatever order concurrent appends commit in.
   */
  async readAll(after: GlobalPosition, limit: number): Promise<RecordedEvent[]> {
    const rows: (StoredEventRow & { transaction_id: string })[] = await this.db.query(
      `SELECT transaction_id::text, ${EVENT_COLUMNS} FROM events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY transaction_id, global_position
        LIMIT $3`,
      [after.transactionId, after.position, limit],
    );
    return rows.map((row) => {
      const stored = rowToStored(row);
      return {
        position: { transactionId: row.transaction_id, position: row.global_position },
        stored,
        event: upcast(stored),
      };
    });
  }

  private async lockStream(tx: EntityManager, target: AppendTarget): Promise<{ version: number }> {
    if (target.expectedVersion === 0) {
      await tx.query(
        `INSERT INTO streams (tenant_id, stream_id, kind, version) VALUES ($1, $2, $3, 0)
         ON CONFLICT (tenant_id, stream_id) DO NOTHING`,
        [target.tenantId, target.streamId, target.kind],
      );
    }
    const rows: { kind: string; version: string }[] = await tx.query(
      'SELECT kind, version FROM streams WHERE tenant_id = $1 AND stream_id = $2 FOR UPDATE',
      [target.tenantId, target.streamId],
    );
    const row = rows[0];
    // Streams are per tenant: another tenant's stream of the same id is simply not there.
    if (!row) throw new AppError(target.kind === 'conversation' ? 'conversation-not-found' : 'not-found');
    if (row.kind !== target.kind) {
      throw new AppError('validation-failed', `stream ${target.streamId} is a ${row.kind} stream`);
    }
    return { version: Number(row.version) };
  }

  private async insertEvents(
    tx: EntityManager,
    target: StreamRef,
    events: readonly EngineEvent[],
  ): Promise<string[]> {
    const rows: { global_position: string }[] = await tx.query(
      `INSERT INTO events (event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id, correlation_id, data)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[],
                            $7::uuid[], $8::uuid[], $9::jsonb[])
       RETURNING global_position`,
      [
        events.map((e) => e.eventId),
        events.map(() => target.tenantId),
        events.map(() => target.streamId),
        events.map((e) => e.sequence),
        events.map((e) => e.type),
        events.map((e) => e.occurredAt),
        events.map((e) => e.causationId),
        events.map((e) => e.correlationId),
        events.map((e) => JSON.stringify(e.data)),
      ],
    );
    return rows.map((row) => row.global_position);
  }
}
