import {
  AppError,
  kindOfType,
  validateStoredEvent,
  type EngineEvent,
  type EventsOfKind,
  type PendingEvent,
  type StoredEvent,
  type StreamKind,
} from '@contracts';

/** A stream is named by its tenant and an id unique within that tenant. */
export interface StreamRef {
  tenantId: string;
  streamId: string;
}

/** Where an append goes and what it claims about the stream. */
export interface AppendTarget<K extends StreamKind = StreamKind> extends StreamRef {
  kind: K;
  /**
   * The version the caller based its decision on (0: the stream must not exist yet, and is created),
   * or 'any' for facts that do not depend on the state, such as streamed chunks.
   */
  expectedVersion: number | 'any';
  causationId: string | null;
  correlationId: string;
}

export type AppendResult<K extends StreamKind = StreamKind> =
  | { status: 'appended'; events: EventsOfKind[K][]; version: number }
  /** Every event id was already in the store: a redelivery, nothing was written. */
  | { status: 'duplicate'; version: number };

/**
 * A place in the store's global order. Events are ordered by the transaction that wrote them, then by
 * position, and read-all shows an event only once every transaction that could come before it ended,
 * so a reader that remembers the last place it saw never skips an event committed late.
 * Both parts are 64-bit integers, kept as decimal strings.
 */
export interface GlobalPosition {
  transactionId: string;
  position: string;
}

export const START_OF_STORE: GlobalPosition = { transactionId: '0', position: '0' };

/** One event as read-all returns it: as stored (audit hashes this) and upcast (projections fold this). */
export interface RecordedEvent {
  position: GlobalPosition;
  stored: StoredEvent;
  event: EngineEvent;
}

export interface ReadOptions {
  afterSequence?: number;
  /** Read up to and including this sequence: the state as of an event. */
  toSequence?: number;
  limit?: number;
}

/**
 * Append-only event streams of every kind. `PostgresEventStore` is the real one (with the outbox that
 * carries events to Kafka); `InMemoryEventStore` keeps the same contract for unit tests.
 */
export abstract class EventStore {
  abstract append<K extends StreamKind>(
    target: AppendTarget<K>,
    pending: readonly PendingEvent<K>[],
  ): Promise<AppendResult<K>>;

  /** A stream's events in order, upcast to current versions. Another tenant's stream reads as empty. */
  abstract read<K extends StreamKind>(
    kind: K,
    ref: StreamRef,
    options?: ReadOptions,
  ): Promise<EventsOfKind[K][]>;

  abstract streamVersion(ref: StreamRef): Promise<number | null>;

  /** Every event of every stream after `after`, in the global order (see GlobalPosition). */
  abstract readAll(after: GlobalPosition, limit: number): Promise<RecordedEvent[]>;
}

/** Builds and validates the envelope of a new event; a bad event is validation-failed, never a query error. */
export function envelopeOf<K extends StreamKind>(
  target: AppendTarget<K>,
  event: PendingEvent<K>,
  sequence: number,
  occurredAt: string,
): EventsOfKind[K] {
  const kind = kindOfType(event.type);
  if (kind !== target.kind) {
    throw new AppError('validation-failed', `${event.type} cannot be appended to a ${target.kind} stream`);
  }
  const result = validateStoredEvent({
    eventId: event.eventId,
    type: event.type,
    tenantId: target.tenantId,
    ...streamIdField(kind, target.streamId),
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
  return result.event as EventsOfKind[K];
}

/** Conversations keep their published envelope field; every other kind names its stream `streamId`. */
export function streamIdField(
  kind: StreamKind,
  streamId: string,
): { conversationId: string } | { streamId: string } {
  return kind === 'conversation' ? { conversationId: streamId } : { streamId };
}

/** The stream id of an event, whatever its kind. */
export function streamIdOf(event: { conversationId: string } | { streamId: string }): string {
  return 'conversationId' in event ? event.conversationId : event.streamId;
}

/** Narrows events read from a stream to its kind; anything else there means the store is corrupted. */
export function ofKind<K extends StreamKind>(kind: K, events: EngineEvent[]): EventsOfKind[K][] {
  for (const event of events) {
    if (kindOfType(event.type) !== kind) {
      throw new AppError('stream-corrupted', `${event.type} found in a ${kind} stream`, {
        eventId: event.eventId,
      });
    }
  }
  return events as EventsOfKind[K][];
}
