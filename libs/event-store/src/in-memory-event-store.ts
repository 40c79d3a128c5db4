import {
  AppError,
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
  streamIdOf,
  type AppendResult,
  type AppendTarget,
  type GlobalPosition,
  type ReadOptions,
  type RecordedEvent,
  type StreamRef,
} from './event-store';

interface MemoryStream {
  kind: StreamKind;
  events: StoredEvent[];
}

/**
 * The event store's contract without a database, for unit tests: streams per tenant, optimistic
 * concurrency, idempotent appends by event id, upcasting on read and a global order for read-all.
 * `seed` writes stored events as they are (old versions included), as a migration-era stream would hold.
 */
export class InMemoryEventStore extends EventStore {
  private readonly streams = new Map<string, MemoryStream>();
  private readonly all: { position: number; stored: StoredEvent }[] = [];
  private readonly eventIds = new Set<string>();

  constructor(private readonly now: () => Date = () => new Date('2026-01-01T00:00:00.000Z')) {
    super();
  }

  append<K extends StreamKind>(
    target: AppendTarget<K>,
    pending: readonly PendingEvent<K>[],
  ): Promise<AppendResult<K>> {
    return Promise.resolve().then(() => {
      if (pending.length === 0) throw new Error('append needs at least one event');
      const occurredAt = this.now().toISOString();
      pending.forEach((event, index) => envelopeOf(target, event, index + 1, occurredAt));
      const key = streamKey(target);
      if (target.expectedVersion === 0 && !this.streams.has(key)) {
        this.streams.set(key, { kind: target.kind, events: [] });
      }
      const stream = this.streams.get(key);
      if (!stream)
        throw new AppError(target.kind === 'conversation' ? 'conversation-not-found' : 'not-found');
      if (stream.kind !== target.kind) {
        throw new AppError('validation-failed', `stream ${target.streamId} is a ${stream.kind} stream`);
      }
      const seen = pending.filter((event) => this.eventIds.has(event.eventId)).length;
      if (seen === pending.length) return { status: 'duplicate', version: stream.events.length };
      if (seen > 0) throw new AppError('concurrency-conflict', 'part of this batch was already appended');
      if (target.expectedVersion !== 'any' && target.expectedVersion !== stream.events.length) {
        throw new AppError('concurrency-conflict', 'the stream changed since it was read', {
          expectedVersion: target.expectedVersion,
          actualVersion: stream.events.length,
        });
      }
      const events = pending.map((event, index) =>
        envelopeOf(target, event, stream.events.length + index + 1, occurredAt),
      );
      for (const event of events) this.record(stream, event);
      return { status: 'appended', events, version: stream.events.length };
    });
  }

  read<K extends StreamKind>(kind: K, ref: StreamRef, options: ReadOptions = {}): Promise<EventsOfKind[K][]> {
    const stored = this.streams.get(streamKey(ref))?.events ?? [];
    const after = options.afterSequence ?? 0;
    const to = options.toSequence ?? Number.MAX_SAFE_INTEGER;
    const selected = stored
      .filter((event) => event.sequence > after && event.sequence <= to)
      .slice(0, options.limit ?? Number.MAX_SAFE_INTEGER);
    return Promise.resolve(ofKind(kind, selected.map(upcast)));
  }

  streamVersion(ref: StreamRef): Promise<number | null> {
    return Promise.resolve(this.streams.get(streamKey(ref))?.events.length ?? null);
  }

  readAll(after: GlobalPosition, limit: number): Promise<RecordedEvent[]> {
    const from = Number(after.position);
    return Promise.resolve(
      this.all
        .filter((entry) => entry.position > from)
        .slice(0, limit)
        .map(({ position, stored }) => ({
          // Each append is its own "transaction": the order is the position order.
          position: { transactionId: String(position), position: String(position) },
          stored,
          event: upcast(stored),
        })),
    );
  }

  /** Test setup: stores events exactly as given (any published version), bypassing decisions. */
  seed(kind: StreamKind, events: readonly StoredEvent[]): void {
    for (const event of events) {
      const ref = { tenantId: event.tenantId, streamId: streamIdOf(event) };
      const key = streamKey(ref);
      const stream = this.streams.get(key) ?? { kind, events: [] };
      this.streams.set(key, stream);
      if (event.sequence !== stream.events.length + 1)
        throw new Error(`seed: sequence ${event.sequence} out of order`);
      this.record(stream, event);
    }
  }

  private record(stream: MemoryStream, event: StoredEvent | EngineEvent): void {
    stream.events.push(event);
    this.eventIds.add(event.eventId);
    this.all.push({ position: this.all.length + 1, stored: event });
  }
}

function streamKey(ref: StreamRef): string {
  return `${ref.tenantId}\u0000${ref.streamId}`;
}
