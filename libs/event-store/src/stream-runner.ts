import { AppError, type EventsOfKind, type PendingEvent, type StreamKind } from '@contracts';
import type { AppendResult, EventStore, ReadOptions, StreamRef } from './event-store';

/**
 * What the runner needs of a stream kind's domain: where a stream starts and how each event moves it
 * on. The domain libraries export one of these per kind; they stay pure and never see the store.
 */
export interface StreamDefinition<K extends StreamKind, S> {
  kind: K;
  initialState(): S;
  evolve(state: S, event: EventsOfKind[K]): S;
  /**
   * An event after which a state kept in memory must be folded again from the stored events: an
   * erasure, after which what was read before (customer text) is no longer readable.
   */
  refoldsAfter?(event: EventsOfKind[K]): boolean;
}

export interface Causation {
  causationId: string | null;
  correlationId: string;
}

export interface Loaded<S> {
  state: S;
  /** Sequence of the last event folded in; 0 for a stream that does not exist. */
  version: number;
}

export interface Executed<K extends StreamKind, S> extends Loaded<S> {
  /** `unchanged`: the decision produced no events; `duplicate`: they were already stored (a redelivery). */
  status: 'appended' | 'duplicate' | 'unchanged';
  result?: AppendResult<K>;
}

/**
 * The decision. It may await inputs that are fixed for the stream (the settings version a conversation
 * runs under, say) but never the clock or anything that would make the same state decide differently.
 */
export type Decide<K extends StreamKind, S> = (
  state: S,
  version: number,
) => PendingEvent<K>[] | Promise<PendingEvent<K>[]>;

const MAX_CONFLICT_RETRIES = 10;

/**
 * The latest states this process folded, by stream, least recently used first out. Streams only grow
 * and states are immutable values, so a cached state at version n plus the events after n is exactly
 * the stream's state: a load reads only the tail, however long the stream.
 */
class StateCache<S> {
  private readonly entries = new Map<string, Loaded<S>>();

  constructor(private readonly capacity: number) {}

  get(key: string): Loaded<S> | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  set(key: string, entry: Loaded<S>): void {
    if (this.capacity === 0) return;
    const known = this.entries.get(key);
    if (known && known.version > entry.version) return; // a slower load must not take a newer state back
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}

export interface StreamRunnerOptions {
  /** Streams whose latest state is kept in memory (0: every load folds the whole stream). */
  cachedStreams?: number;
}

/** Enough for every conversation a service instance has open at once, at a few KiB each. */
export const DEFAULT_CACHED_STREAMS = 5_000;

/**
 * Load, decide, append (Emmett's command handler): the one way a decision reaches any stream. On a
 * concurrency conflict it reloads and decides again, so a decision always rests on what is stored.
 * The latest state of recently used streams stays in memory: a load reads and folds only the events
 * appended since (by anyone), so a decision still rests on everything stored.
 */
export class StreamRunner<K extends StreamKind, S> {
  private readonly cache: StateCache<S>;

  constructor(
    private readonly store: EventStore,
    private readonly definition: StreamDefinition<K, S>,
    options: StreamRunnerOptions = {},
  ) {
    this.cache = new StateCache(options.cachedStreams ?? DEFAULT_CACHED_STREAMS);
  }

  get kind(): K {
    return this.definition.kind;
  }

  async load(ref: StreamRef, options: Pick<ReadOptions, 'toSequence'> = {}): Promise<Loaded<S>> {
    if (options.toSequence !== undefined) {
      // A past state: folded from the start, and not cached.
      const events = await this.store.read(this.definition.kind, ref, options);
      return { state: this.fold(events), version: events.at(-1)?.sequence ?? 0 };
    }
    const key = cacheKey(ref);
    const cached = this.cache.get(key);
    const tail = await this.store.read(this.definition.kind, ref, { afterSequence: cached?.version ?? 0 });
    if (cached && tail.some((event) => this.definition.refoldsAfter?.(event))) {
      this.cache.delete(key);
      return this.load(ref);
    }
    const loaded = {
      state: this.fold(tail, cached?.state),
      version: tail.at(-1)?.sequence ?? cached?.version ?? 0,
    };
    this.cache.set(key, loaded);
    return loaded;
  }

  /** The state kept in memory moved on by `next`, when `next` is the event right after it; else null. */
  private advanceCached(ref: StreamRef, next: EventsOfKind[K]): Loaded<S> | null {
    const key = cacheKey(ref);
    const cached = this.cache.get(key);
    if (!cached || next.sequence !== cached.version + 1 || this.definition.refoldsAfter?.(next)) return null;
    const advanced = { state: this.definition.evolve(cached.state, next), version: next.sequence };
    this.cache.set(key, advanced);
    return advanced;
  }

  fold(events: readonly EventsOfKind[K][], from: S = this.definition.initialState()): S {
    return events.reduce((state, event) => this.definition.evolve(state, event), from);
  }

  /**
   * `next`: the event that asked for this decision, as consumed. When it is the event right after the
   * state kept in memory, that state moved on by it is the stream as stored up to it, and the stream is
   * not read again; an event stored after it makes the append conflict, and the retry reads the tail.
   */
  async execute(
    ref: StreamRef,
    causation: Causation,
    decide: Decide<K, S>,
    next?: EventsOfKind[K],
  ): Promise<Executed<K, S>> {
    for (let attempt = 1; ; attempt++) {
      const { state, version } =
        (attempt === 1 && next && this.advanceCached(ref, next)) || (await this.load(ref));
      const pending = await decide(state, version);
      if (pending.length === 0) return { status: 'unchanged', state, version };
      try {
        const result = await this.store.append(
          { ...ref, ...causation, kind: this.definition.kind, expectedVersion: version },
          pending,
        );
        if (result.status === 'appended') {
          const appended = { state: this.fold(result.events, state), version: result.version };
          if (result.events.some((event) => this.definition.refoldsAfter?.(event)))
            this.cache.delete(cacheKey(ref));
          else this.cache.set(cacheKey(ref), appended);
          return { status: 'appended', ...appended, result };
        }
        return { status: 'duplicate', ...(await this.load(ref)), result };
      } catch (error) {
        const conflict = error instanceof AppError && error.code === 'concurrency-conflict';
        if (!conflict || attempt >= MAX_CONFLICT_RETRIES) throw error;
        // Exponential backoff with full jitter, so many writers to one stream spread out.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(500, 5 * 2 ** attempt)));
      }
    }
  }
}

function cacheKey(ref: StreamRef): string {
  return `${ref.tenantId}\u0000${ref.streamId}`;
}
