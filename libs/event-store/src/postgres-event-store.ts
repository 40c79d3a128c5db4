import type { DataSource } from 'typeorm';
import {
  AppError,
  MAX_STREAM_SEQUENCE,
  TOPIC_OF_KIND,
  kindOfType,
  upcast,
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
import type { DataKey } from './data-key.repository';
import type { PersonalDataCipher } from './personal-data-cipher';

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

/**
 * A stored row exactly as it was written (any version). Rows enter only through `append`, which
 * validated every event against its schema, and stored events never change: reading one back does not
 * validate it again (that was the largest use of zod in every service's CPU profile, bench/RESULTS.md).
 * A type no version of the contracts knows still reads as a corrupted stream.
 */
export function rowToStored(row: StoredEventRow): StoredEvent {
  const kind = kindOfType(row.type);
  if (!kind) {
    throw new AppError('stream-corrupted', `stored event ${row.event_id} has an unknown type ${row.type}`);
  }
  return {
    eventId: row.event_id,
    type: row.type,
    tenantId: row.tenant_id,
    ...streamIdField(kind, row.stream_id),
    sequence: Number(row.sequence),
    occurredAt: row.occurred_at.toISOString(),
    causationId: row.causation_id,
    correlationId: row.correlation_id,
    data: row.data,
  } as StoredEvent;
}

/** The upcasting hook: the one way a stored row becomes what readers see, at the current version. */
export function rowToEnvelope(row: StoredEventRow): EngineEvent {
  return upcast(rowToStored(row));
}

export const OUTBOX_CHANNEL = 'outbox_appended';

/** The refusals `append_events` raises (SQLSTATE class CE) as the store's coded errors. */
function appendRefusal(error: unknown, target: AppendTarget, eventIds: string[]): AppError | null {
  const driver = (error as { driverError?: { code?: string; message?: string; detail?: string } })
    .driverError;
  if (!driver) return null;
  switch (driver.code ?? '') {
    case 'CE404':
      return new AppError(target.kind === 'conversation' ? 'conversation-not-found' : 'not-found');
    case 'CE422':
      return new AppError('validation-failed', driver.message ?? 'the stream is of another kind');
    case 'CE409':
      return new AppError('concurrency-conflict', 'part of this batch was already appended', { eventIds });
    case 'CE412':
      return new AppError('concurrency-conflict', 'the stream changed since it was read', {
        expectedVersion: target.expectedVersion,
        actualVersion: Number(driver.detail),
      });
    default:
      return null;
  }
}

const EVENT_COLUMNS =
  'global_position, event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id, correlation_id, data';
const MAX_READ = 1_000_000;

interface Sealing {
  ref: { tenantId: string; conversationId: string };
  key: DataKey;
  /** A conversation's first append stores its new data key, in the same statement: both or neither. */
  wrappedNew: Buffer | null;
  /** The erasure's append shreds the key (a tombstone row), in the same statement: both or neither. */
  shred: boolean;
}

/** What an append does to the conversation's data key row, as a CTE of the append's one statement. */
function keyStatement(sealing: Sealing | null): string {
  if (sealing?.wrappedNew) {
    return `WITH new_key AS (INSERT INTO conversation_data_keys (tenant_id, conversation_id, wrapped_key)
                             VALUES ($1, $2, $12))`;
  }
  if (sealing?.shred) {
    return `WITH shred AS (INSERT INTO conversation_data_keys (tenant_id, conversation_id, wrapped_key, erased_at)
                           VALUES ($1, $2, NULL, now())
                           ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET wrapped_key = NULL, erased_at = now()
                           WHERE conversation_data_keys.erased_at IS NULL)`;
  }
  return '';
}

/** The unique violation of a data key row written by a concurrent first append. */
function isDataKeyRace(error: unknown): boolean {
  const driver = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
  return driver?.code === '23505' && driver.constraint === 'conversation_data_keys_pkey';
}

/**
 * Append-only event streams in PostgreSQL. An append writes the events and their outbox rows in one
 * transaction; the relay publishes them to Kafka afterwards (no dual write).
 *
 * With a `PersonalDataCipher` (every service has one), conversation events' personal fields are sealed
 * before they reach the database, so the rows, the outbox, Kafka and backups hold ciphertext, and they
 * are opened on every read. Without one (tests, tools that write no personal data) they are stored as
 * given.
 */
export class PostgresEventStore extends EventStore {
  constructor(
    private readonly db: DataSource,
    private readonly now: () => Date = () => new Date(),
    private readonly cipher?: PersonalDataCipher,
  ) {
    super();
  }

  /**
   * One round trip: the `append_events` function (see its migration) locks the stream, recognises a
   * redelivery, checks the expected version and writes the events with their outbox rows atomically.
   * Events are validated once, here, before anything reaches the database.
   */
  async append<K extends StreamKind>(
    target: AppendTarget<K>,
    pending: readonly PendingEvent<K>[],
  ): Promise<AppendResult<K>> {
    if (pending.length === 0) throw new Error('append needs at least one event');
    const occurredAt = this.now().toISOString();
    const validated = pending.map((event, index) => envelopeOf(target, event, index + 1, occurredAt));
    const sealing = await this.sealingFor(target, pending);
    const data = pending.map((event) =>
      sealing ? this.cipher!.seal(sealing.ref, sealing.key, event) : event.data,
    );
    let row: { outcome: 'appended' | 'duplicate'; stream_version: string } | undefined;
    try {
      [row] = await this.db.query(
        `${keyStatement(sealing)} SELECT outcome, stream_version FROM append_events($1, $2, $3, $4, $5, $6::uuid[], $7::text[], $8, $9, $10, $11::jsonb[])`,
        [
          target.tenantId,
          target.streamId,
          target.kind,
          target.expectedVersion === 'any' ? -1 : target.expectedVersion,
          TOPIC_OF_KIND[target.kind],
          pending.map((event) => event.eventId),
          pending.map((event) => event.type),
          occurredAt,
          target.causationId,
          target.correlationId,
          data.map((value) => JSON.stringify(value)),
          ...(sealing?.wrappedNew ? [sealing.wrappedNew] : []),
        ],
      );
    } catch (error) {
      // Another writer stored this conversation's first key a moment ago: seal with that one instead.
      if (sealing?.wrappedNew && isDataKeyRace(error)) return this.append(target, pending);
      throw (
        appendRefusal(
          error,
          target,
          pending.map((event) => event.eventId),
        ) ?? error
      );
    }
    if (sealing?.wrappedNew || sealing?.shred) this.cipher!.remember(sealing.ref, sealing.key);
    if (!row) throw new Error('append_events returned nothing');
    const version = Number(row.stream_version);
    if (row.outcome === 'duplicate') return { status: 'duplicate', version };
    const first = version - validated.length + 1;
    if (version > MAX_STREAM_SEQUENCE)
      throw new AppError('stream-corrupted', `stream version ${version} is too large`);
    // The validated envelopes with their stored sequences: nothing else differs, so no second validation
    // (an erased conversation's personal fields were stored as the marker, and read back as such).
    const erased = sealing?.key.state === 'erased';
    const events = validated.map((event, index) => ({
      ...event,
      sequence: first + index,
      ...(erased && { data: data[index] as typeof event.data }),
    }));
    return { status: 'appended', events, version };
  }

  /**
   * The data key a conversation append seals with; none for other kinds or without a cipher. A batch
   * holding the erasure shreds the key in its own statement, and seals nothing readable.
   */
  private async sealingFor(
    target: AppendTarget,
    pending: readonly { type: string }[],
  ): Promise<Sealing | null> {
    if (!this.cipher || target.kind !== 'conversation') return null;
    const ref = { tenantId: target.tenantId, conversationId: target.streamId };
    if (pending.some((event) => event.type === 'conversation.erased.v1')) {
      return { ref, key: { state: 'erased' }, wrappedNew: null, shred: true };
    }
    return { ref, ...(await this.cipher.keyForAppend(ref)), shred: false };
  }

  /** Stored events with their personal fields opened (as they are when no cipher is configured). */
  private async opened(stored: StoredEvent[]): Promise<StoredEvent[]> {
    return this.cipher ? this.cipher.open(stored) : stored;
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
    const opened = await this.opened(rows.map(rowToStored));
    return ofKind(kind, opened.map(upcast));
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
    const stored = rows.map(rowToStored);
    const opened = await this.opened(stored);
    return rows.map((row, index) => ({
      position: { transactionId: row.transaction_id, position: row.global_position },
      stored: stored[index]!,
      event: upcast(opened[index]!),
    }));
  }
}
