import type { DataSource, EntityManager } from 'typeorm';
import { AppError, TOPICS, validateEvent, type ConversationEvent, type PendingEvent } from '@contracts';

/** Where an append goes and what it claims about the stream. */
export interface AppendTarget {
  tenantId: string;
  conversationId: string;
  /**
   * The version the caller based its decision on (0: the stream must not exist yet), or 'any'
   * for facts that do not depend on the state, such as streamed chunks.
   */
  expectedVersion: number | 'any';
  causationId: string | null;
  correlationId: string;
}

export type AppendResult =
  | { status: 'appended'; events: ConversationEvent[]; version: number }
  /** Every event id was already in the store: a redelivery, nothing was written. */
  | { status: 'duplicate'; version: number };

export interface StoredEventRow {
  global_position: string;
  event_id: string;
  tenant_id: string;
  stream_id: string;
  sequence: number;
  type: string;
  occurred_at: Date;
  causation_id: string | null;
  correlation_id: string;
  data: unknown;
}

/** The one way a stored row becomes an envelope, for the API, the relay and replays alike. */
export function rowToEnvelope(row: StoredEventRow): ConversationEvent {
  const result = validateEvent({
    eventId: row.event_id,
    type: row.type,
    tenantId: row.tenant_id,
    conversationId: row.stream_id,
    sequence: row.sequence,
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

export const OUTBOX_CHANNEL = 'outbox_appended';
const EVENT_COLUMNS =
  'global_position, event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id, correlation_id, data';

/**
 * Append-only event streams, one per conversation, in PostgreSQL. An append writes the events and
 * their outbox rows in one transaction; the relay publishes them to Kafka afterwards (no dual write).
 */
export class EventStore {
  constructor(
    private readonly db: DataSource,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(target: AppendTarget, pending: readonly PendingEvent[]): Promise<AppendResult> {
    if (pending.length === 0) throw new Error('append needs at least one event');
    // Validate before touching the database: a bad event is validation-failed, never a query error.
    const occurredAt = this.now().toISOString();
    pending.forEach((event, index) => this.envelope(target, event, index + 1, occurredAt));
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
        throw new AppError('concurrency-conflict', 'the conversation changed since it was read', {
          expectedVersion: target.expectedVersion,
          actualVersion: stream.version,
        });
      }
      const events = pending.map((event, index) =>
        this.envelope(target, event, stream.version + index + 1, occurredAt),
      );
      const positions = await this.insertEvents(tx, events);
      const version = stream.version + events.length;
      await tx.query('UPDATE streams SET version = $2, updated_at = now() WHERE stream_id = $1', [
        target.conversationId,
        version,
      ]);
      await tx.query(`INSERT INTO outbox (global_position, topic) SELECT unnest($1::bigint[]), $2`, [
        positions,
        TOPICS.conversationEvents,
      ]);
      await tx.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
      return { status: 'appended', events, version };
    });
  }

  /** Reads a conversation's events in order. Another tenant's conversation reads as empty. */
  async read(
    tenantId: string,
    conversationId: string,
    options: { afterSequence?: number; limit?: number } = {},
  ): Promise<ConversationEvent[]> {
    const rows: StoredEventRow[] = await this.db.query(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE tenant_id = $1 AND stream_id = $2 AND sequence > $3
        ORDER BY sequence LIMIT $4`,
      [tenantId, conversationId, options.afterSequence ?? 0, options.limit ?? 1_000_000],
    );
    return rows.map(rowToEnvelope);
  }

  async streamVersion(tenantId: string, conversationId: string): Promise<number | null> {
    const rows: { version: number }[] = await this.db.query(
      'SELECT version FROM streams WHERE tenant_id = $1 AND stream_id = $2',
      [tenantId, conversationId],
    );
    return rows[0]?.version ?? null;
  }

  private async lockStream(tx: EntityManager, target: AppendTarget): Promise<{ version: number }> {
    if (target.expectedVersion === 0) {
      await tx.query(
        `INSERT INTO streams (stream_id, tenant_id, version) VALUES ($1, $2, 0) ON CONFLICT (stream_id) DO NOTHING`,
        [target.conversationId, target.tenantId],
      );
    }
    const rows: { tenant_id: string; version: number }[] = await tx.query(
      'SELECT tenant_id, version FROM streams WHERE stream_id = $1 FOR UPDATE',
      [target.conversationId],
    );
    const row = rows[0];
    // A stream of another tenant is indistinguishable from a missing one.
    if (!row || row.tenant_id !== target.tenantId) throw new AppError('conversation-not-found');
    return { version: row.version };
  }

  private envelope(target: AppendTarget, event: PendingEvent, sequence: number, occurredAt: string) {
    const result = validateEvent({
      eventId: event.eventId,
      type: event.type,
      tenantId: target.tenantId,
      conversationId: target.conversationId,
      sequence,
      occurredAt,
      causationId: target.causationId,
      correlationId: target.correlationId,
      data: event.data,
    });
    if (!result.ok) {
      throw new AppError('validation-failed', `invalid ${event.type}: ${result.detail}`, {
        reason: result.reason,
      });
    }
    return result.event;
  }

  private async insertEvents(tx: EntityManager, events: ConversationEvent[]): Promise<string[]> {
    const rows: { global_position: string }[] = await tx.query(
      `INSERT INTO events (event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id, correlation_id, data)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::text[], $6::timestamptz[],
                            $7::uuid[], $8::uuid[], $9::jsonb[])
       RETURNING global_position`,
      [
        events.map((e) => e.eventId),
        events.map((e) => e.tenantId),
        events.map((e) => e.conversationId),
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
