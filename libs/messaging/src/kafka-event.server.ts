import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, EachMessagePayload, Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import type { Logger } from 'pino';
import {
  AppError,
  DEAD_LETTER_HEADERS,
  EVENT_HEADERS,
  REDRIVE_HEADERS,
  TOPICS,
  currentTypeOf,
  parseStoredEvent,
  topicOfType,
  upcast,
  type StoredEvent,
} from '@contracts';
import { failureKind } from './failure-kind';
import { PartitionProgress } from './partition-progress';
import { topicName } from './kafka.client';
import type { KafkaPublisher } from './kafka.publisher';
import { RetryBudget, retryDelayMs } from './retry-budget';

/** Where a handled event came from; handlers rarely need it, logs and dead letters do. */
export interface EventContext {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * What became of a consumed event: `dead-lettered` when it was rejected for good, `parked` when its
 * handler kept failing past the retry budget (a bug, most likely: alert on it, fix, re-drive).
 */
export type HandledOutcome = 'handled' | 'ignored' | 'dead-lettered' | 'parked';

/** The consumed event as the outcome callback sees it: enough to count and log, parsed or not. */
export interface ConsumedEvent {
  type: string;
  eventId: string;
}

/**
 * Where a consumed event's time went: from its producer's timestamp to the handler starting (the Kafka
 * hop: relay publish, broker, fetch, waiting behind earlier messages), then the handling itself.
 */
export interface ConsumeTiming {
  deliveryMs: number;
  handlingMs: number;
}

export interface KafkaEventServerOptions {
  kafka: Kafka;
  publisher: KafkaPublisher;
  topicPrefix: string;
  /** Consumer group, before the prefix. One group per service: each service sees every event once. */
  groupId: string;
  /** Start from the newest offset when the group is new (the gateway's live fan-out). */
  fromLatest?: boolean;
  logger: Logger;
  sessionTimeoutMs?: number;
  /**
   * Handle up to this many messages at once, across partitions and within one, for handlers that wait on
   * a shared resource (inference's model dispatcher) or take long (indexing a document): a message never
   * waits for an unrelated message ahead of it in its partition, and no partition is paused (unless its
   * topic is at its maxInFlightPerTopic). Each partition's offset is committed up to its first unfinished
   * message, so a crash redelivers exactly the unfinished ones (and perhaps some finished after them). At
   * the limit, fetching stops: Kafka holds the backlog. Handlers must be idempotent and tolerate two
   * events of one key at the same time.
   */
  maxInFlight?: number;
  /**
   * With maxInFlight: a lower limit for the messages of one topic (by name, before the prefix), so slow
   * handlers of that topic (indexing) never take every slot from the fast ones of another (a customer
   * message's search). At its limit a partition of that topic pauses until one of its messages finishes;
   * the other topics' partitions go on.
   */
  maxInFlightPerTopic?: Readonly<Record<string, number>>;
  /**
   * With maxInFlight: messages of one key (one conversation) are handled one after another, in their
   * order, while messages of other keys overlap them. For a service that decides on a conversation's
   * state (sessions): no conversation waits for another one ahead of it in the partition, and none sees
   * its own events out of order.
   */
  orderByKey?: boolean;
  /**
   * With maxInFlight: how long the offset of a passed-by message (no handler here) may wait to ride on
   * the next commit of its partition before it is committed alone (default 1 s).
   */
  passedByCommitMs?: number;
  /** Partitions handled at once; a slow handler (a model call) must not hold up other conversations. */
  concurrency?: number;
  /** Failing attempts of a handler before the message is parked in the dead-letter topic (default 10). */
  maxAttempts?: number;
  /** Time after a handler's first failure after which the message is parked at its next failure (default 30 s). */
  maxRetryMs?: number;
  onHandled?: (event: ConsumedEvent, outcome: HandledOutcome, groupId: string, timing: ConsumeTiming) => void;
  /**
   * Opens sealed personal data before a handler sees the event (PersonalDataCipher.open): a shredded
   * key gives the erasure marker. Runs inside the retry loop, so an unreachable key table is an outage.
   */
  open?: (event: StoredEvent) => Promise<StoredEvent>;
}

/** Whether a message, by its `tenant-id` header and its key (a conversation's id), is of use here. */
export type MessageInterest = (tenantId: string | undefined, key: string | null) => boolean;

/** Where one message stands in the retry loop, for the dead letter's headers. */
interface FailureRecord {
  reason: string;
  detail: string;
  attempts: number;
  firstFailedAt: Date;
}

/**
 * A NestJS microservice transport over kafkajs. `@EventPattern('<event type>')` handlers receive
 * validated envelopes. No message stalls its partition for long (see failure-kind.ts):
 * - one that fails validation, or whose handler rejects it (a non-retryable AppError), goes to the
 *   dead-letter topic with the reason at once;
 * - one whose handler keeps failing otherwise is retried with backoff, then parked in the dead-letter
 *   topic once the retry budget (maxAttempts, maxRetryMs) is spent, and the partition moves on;
 * - during an outage (the database unreachable, say) nothing is parked: the message is retried with
 *   capped backoff until the dependency is back, however long that takes.
 * A message re-driven from the dead-letter topic for another consumer group is passed over.
 */
export class KafkaEventServer extends Server implements CustomTransportStrategy {
  private consumer: Consumer | null = null;
  /** Batches being handled in the background; close() lets them finish. */
  private readonly inflight = new Set<Promise<void>>();
  private joined = false;
  /** Overlapping mode: per partition, what is started and finished; a new group generation starts afresh. */
  private progress = new Map<string, PartitionProgress>();
  private running = 0;
  /** Overlapping mode: messages running per topic (prefixed), for maxInFlightPerTopic. */
  private readonly runningByTopic = new Map<string, number>();
  /** Partitions paused because their topic was at its limit: resumed when one of its messages finishes. */
  private readonly pausedTopics = new Map<string, Array<() => void>>();
  /** orderByKey: the last message started per partition and key, which the next one of that key waits for. */
  private readonly keyTails = new Map<string, Promise<unknown>>();
  private readonly slotWaiters: Array<() => void> = [];
  private commits: Promise<void> = Promise.resolve();
  /** Overlapping mode: passed-by prefixes not committed yet, by partition (see commitSoon). */
  private readonly passedBy = new Map<string, { topic: string; partition: number; offset: string }>();
  private passedByTimer: NodeJS.Timeout | null = null;
  private interest: MessageInterest | null = null;

  constructor(private readonly options: KafkaEventServerOptions) {
    super();
  }

  /**
   * From now on, a message this service has no use for by its headers and key alone (the gateway: a
   * conversation nobody here watches) is passed by without being parsed, like an unhandled type.
   */
  passByUnless(interest: MessageInterest): void {
    this.interest = interest;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    const { kafka, topicPrefix, groupId } = this.options;
    try {
      const consumer = kafka.consumer({
        groupId: topicName(topicPrefix, groupId),
        sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
        // Inline handlers take milliseconds and overlapping ones do not hold the fetch loop, so a live
        // member rejoins a rebalance at once; one silent for a session timeout is dead, and waiting longer
        // (kafkajs defaults to 60 s) only delays its replacement.
        rebalanceTimeout: this.options.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: 3_000,
        // An idle fetch returns after this (data still returns at once): shutdown need not wait 5 s. Only a
        // partition of a topic at its own limit pauses (indexing, never a customer message's path), and it
        // may wait out one fetch once resumed.
        maxWaitTimeInMs: 1_000,
        allowAutoTopicCreation: false,
      });
      this.consumer = consumer;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.joined = true;
        // Assignments may have changed: kafkajs fetches again from the committed offsets, and a waiting
        // passed-by offset of a partition another member owns now must not move that member's back.
        this.progress = new Map();
        this.passedBy.clear();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        this.joined = false;
        this.options.logger.error({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
      });
      consumer.on(consumer.events.STOP, () => (this.joined = false));
      await consumer.connect();
      for (const topic of this.subscribedTopics()) {
        await consumer.subscribe({
          topic: topicName(topicPrefix, topic),
          fromBeginning: !this.options.fromLatest,
        });
      }
      const overlapping = this.options.maxInFlight !== undefined;
      await consumer.run({
        // Overlapping handlers commit by hand: the offsets kafkajs resolves are only where to fetch next.
        autoCommit: !overlapping,
        // Commit as soon as one handled offset is resolved: a crash redelivers at most the message in hand.
        autoCommitThreshold: 1,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.concurrency ?? 1,
        eachBatch: (payload) => (overlapping ? this.takeOverlapping(payload) : this.processBatch(payload)),
      });
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * The topics this service has handlers for, and only those: a service never fetches (and pays for)
   * events it would only skip.
   */
  subscribedTopics(): string[] {
    const topics = new Set<string>();
    for (const pattern of this.getHandlers().keys()) {
      const topic = topicOfType(pattern);
      if (!topic) throw new Error(`@EventPattern('${pattern}') names no known event type`);
      topics.add(topic);
    }
    return [...topics].sort();
  }

  /** True while the consumer is a member of its group (readiness). */
  get hasJoined(): boolean {
    return this.joined;
  }

  async close(): Promise<void> {
    this.commitPassedBy();
    await this.commits;
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.stop();
    await Promise.race([Promise.allSettled([...this.inflight]), delay(15_000)]);
    await consumer?.disconnect();
  }

  on(): void {
    // kafkajs reports through its own instrumentation events; nothing to subscribe here.
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  /**
   * Starts every message of the batch in the background, waiting (and heartbeating) only while the
   * service already handles maxInFlight messages. A message is resolved as soon as it starts, so the
   * next fetch goes past it; its partition's offset is committed when the finished prefix grows. A
   * message whose topic is at its own limit is not taken: its partition pauses, to be fetched again from
   * that message once one of the topic's messages finishes (no partition of another topic waits for it).
   */
  private async takeOverlapping(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const key = partitionKey(topic, partition);
    const progress = this.progress.get(key) ?? new PartitionProgress();
    this.progress.set(key, progress);
    const limit = this.options.maxInFlight ?? 1;
    const keepRetrying = async (): Promise<boolean> => {
      if (!payload.isRunning() || payload.isStale()) return false;
      await payload.heartbeat();
      return true;
    };
    for (const message of payload.batch.messages) {
      for (;;) {
        if (!payload.isRunning() || payload.isStale()) return;
        if (this.topicIsFull(topic)) {
          this.pausedTopics.set(topic, [...(this.pausedTopics.get(topic) ?? []), payload.pause()]);
          return;
        }
        if (this.running < limit) break;
        await Promise.race([new Promise<void>((wake) => this.slotWaiters.push(wake)), delay(1_000)]);
        await payload.heartbeat();
      }
      this.running++;
      this.runningByTopic.set(topic, this.runningOn(topic) + 1);
      progress.start(message.offset);
      payload.resolveOffset(message.offset);
      const work = this.inKeyOrder(key, message.key, () =>
        this.handleMessage({ topic, partition, message }, keepRetrying),
      )
        .then((settled) => {
          // Unfinished (retries cut short by a rebalance or shutdown): never committed, fetched again.
          if (settled === 'unfinished') return;
          const next = progress.finish(message.offset);
          if (next === null || this.progress.get(key) !== progress) return;
          if (settled === 'acted') this.commit(topic, partition, next);
          else this.commitSoon(topic, partition, next);
        })
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'message processing failed'))
        .finally(() => {
          this.running--;
          this.runningByTopic.set(topic, this.runningOn(topic) - 1);
          this.inflight.delete(work);
          this.slotWaiters.shift()?.();
          if (!this.topicIsFull(topic)) {
            for (const resume of this.pausedTopics.get(topic) ?? []) resume();
            this.pausedTopics.delete(topic);
          }
        });
      this.inflight.add(work);
    }
  }

  /** True when the topic (prefixed) has as many messages running as maxInFlightPerTopic allows it. */
  private topicIsFull(topic: string): boolean {
    const topicLimit = this.options.maxInFlightPerTopic?.[topic.slice(this.options.topicPrefix.length)];
    return topicLimit !== undefined && this.runningOn(topic) >= topicLimit;
  }

  private runningOn(topic: string): number {
    return this.runningByTopic.get(topic) ?? 0;
  }

  /** Runs `handle` after the previous message of the same key when orderByKey is set; at once otherwise. */
  private inKeyOrder<T>(
    partitionOf: string,
    messageKey: Buffer | null,
    handle: () => Promise<T>,
  ): Promise<T> {
    if (!this.options.orderByKey) return handle();
    const tailKey = `${partitionOf}\u0000${messageKey?.toString('hex') ?? ''}`;
    const previous = this.keyTails.get(tailKey);
    const handled = previous ? previous.then(handle, handle) : handle();
    this.keyTails.set(tailKey, handled);
    const forget = () => {
      if (this.keyTails.get(tailKey) === handled) this.keyTails.delete(tailKey);
    };
    handled.then(forget, forget);
    return handled;
  }

  /**
   * Overlapping mode: a prefix of passed-by messages (most of a conversation's events, for most
   * services) is committed within passedByCommitMs, or sooner with the next handled message of its
   * partition, or at close: delivering one again after a crash costs nothing, and each commit is a
   * request to the broker.
   */
  private commitSoon(topic: string, partition: number, offset: string): void {
    this.passedBy.set(partitionKey(topic, partition), { topic, partition, offset });
    if (this.passedByTimer !== null) return;
    this.passedByTimer = setTimeout(() => this.commitPassedBy(), this.options.passedByCommitMs ?? 1_000);
    this.passedByTimer.unref();
  }

  private commitPassedBy(): void {
    clearTimeout(this.passedByTimer ?? undefined);
    this.passedByTimer = null;
    const waiting = [...this.passedBy.values()];
    this.passedBy.clear();
    for (const { topic, partition, offset } of waiting) this.commit(topic, partition, offset);
  }

  /** Commits in the order decided, one at a time, so a later offset never lands before an earlier one. */
  private commit(topic: string, partition: number, offset: string): void {
    // Past every passed-by offset waiting for this partition (finished prefixes only grow).
    this.passedBy.delete(partitionKey(topic, partition));
    this.commits = this.commits
      .then(() => this.consumer?.commitOffsets([{ topic, partition, offset }]))
      .catch((error: unknown) =>
        // A rebalance took the partition: its new owner reads from the last commit, which is safe.
        this.options.logger.warn({ err: error, topic, partition, offset }, 'offset commit failed'),
      );
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    // Between retries: stop when the consumer stops or the partition was sought, and stay in the group
    // meanwhile (kafkajs heartbeats only when asked while a batch is in hand; an outage may last minutes).
    const keepRetrying = async (): Promise<boolean> => {
      if (!payload.isRunning() || payload.isStale()) return false;
      await payload.heartbeat();
      return true;
    };
    for (const message of payload.batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      // Unfinished only when retries were cut short: the offset stays uncommitted and it is fetched again.
      const settled = await this.handleMessage({ topic, partition, message }, keepRetrying);
      if (settled === 'unfinished') return;
      payload.resolveOffset(message.offset);
      // Acted on: committed at once, so a crash redelivers at most the message in hand. Passed by: its
      // offset rides on the next commit (the next one acted on, or kafkajs's at the end of the batch),
      // since delivering it again costs nothing; most messages are passed by, and each commit is a
      // request to the broker.
      if (settled === 'acted') await payload.commitOffsetsIfNecessary();
      await payload.heartbeat();
    }
  }

  /**
   * `acted` when the message was handled, dead-lettered or parked, `passed` when it was ignored (no
   * handler here, or re-driven for another group), `unfinished` when `keepRetrying` stopped the
   * retries first.
   */
  private async handleMessage(
    { topic, partition, message }: Pick<EachMessagePayload, 'topic' | 'partition' | 'message'>,
    keepRetrying: () => Promise<boolean>,
  ): Promise<'acted' | 'passed' | 'unfinished'> {
    const { groupId } = this.options;
    const startedAt = performance.now();
    const deliveryMs = Math.max(0, Date.now() - Number(message.timestamp));
    const onHandled = (event: ConsumedEvent, outcome: HandledOutcome) =>
      this.options.onHandled?.(event, outcome, groupId, {
        deliveryMs,
        handlingMs: performance.now() - startedAt,
      });
    const context: EventContext = { topic, partition, offset: message.offset };
    const redriveGroup = message.headers?.[REDRIVE_HEADERS.group]?.toString();
    if (redriveGroup !== undefined && redriveGroup !== groupId) return 'passed';
    // The headers say whether this service handles the event at all: most of a conversation's events
    // (reply chunks above all) concern one or two of the services that read its topic, and the others
    // pass them by without parsing and validating them; so does a service with no interest in the
    // message's tenant and key (passByUnless). A message without the type header is parsed.
    const typeHeader = message.headers?.[EVENT_HEADERS.type]?.toString();
    const headerType = typeHeader === undefined ? undefined : currentTypeOf(typeHeader);
    const unhandledType = headerType !== undefined && !this.messageHandlers.has(headerType);
    if (
      unhandledType ||
      (this.interest &&
        !this.interest(
          message.headers?.[EVENT_HEADERS.tenantId]?.toString(),
          message.key?.toString() ?? null,
        ))
    ) {
      const eventId = message.headers?.[EVENT_HEADERS.eventId]?.toString() ?? '';
      onHandled({ type: headerType ?? 'unknown', eventId }, 'ignored');
      return 'passed';
    }
    const parsed = parseStoredEvent(message.value);
    if (!parsed.ok) {
      await this.deadLetter(message, context, { ...parsed, attempts: 0, firstFailedAt: new Date() });
      return 'acted';
    }
    const stored = parsed.event;
    // As published: enough to route and count; handlers get it opened (below).
    const event = upcast(stored);
    // Patterns are event types (plain strings): a direct lookup. Nest's getHandlerByPattern first tries
    // JSON.parse on the pattern, which throws (and captures a stack) for every message.
    const handler = this.messageHandlers.get(event.type) ?? null;
    if (!handler) {
      onHandled(event, 'ignored');
      return 'passed';
    }
    const budget = new RetryBudget({
      maxAttempts: this.options.maxAttempts ?? 10,
      maxRetryMs: this.options.maxRetryMs ?? 30_000,
    });
    let firstFailedAt: Date | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const opened = this.options.open ? upcast(await this.options.open(stored)) : event;
        await lastValueFrom(this.transformToObservable(await handler(opened, context)), {
          defaultValue: undefined,
        });
        onHandled(event, 'handled');
        return 'acted';
      } catch (error) {
        firstFailedAt ??= new Date();
        const failure = { detail: describe(error), attempts: attempt, firstFailedAt };
        const kind = failureKind(error);
        if (kind === 'rejected') {
          await this.deadLetter(message, context, { ...failure, reason: 'handler-rejected' });
          onHandled(event, 'dead-lettered');
          return 'acted';
        }
        if (budget.spentBy(kind, Date.now())) {
          await this.deadLetter(message, context, { ...failure, reason: 'retries-exhausted' });
          onHandled(event, 'parked');
          return 'acted';
        }
        this.options.logger.warn(
          { err: error, eventId: event.eventId, attempt, kind, ...context },
          kind === 'outage' ? 'handler failed: a dependency is unavailable, waiting' : 'handler failed',
        );
      }
      await delay(retryDelayMs(attempt));
      if (!(await keepRetrying())) return 'unfinished';
    }
  }

  private async deadLetter(
    message: EachMessagePayload['message'],
    context: EventContext,
    { reason, detail, attempts, firstFailedAt }: FailureRecord,
  ): Promise<void> {
    this.options.logger.error({ reason, detail, attempts, ...context }, 'dead-lettering message');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      if (value !== undefined) headers[name] = value.toString();
    }
    await this.options.publisher.sendRaw(TOPICS.deadLetter, {
      key: message.key,
      value: message.value,
      headers: {
        ...headers,
        [DEAD_LETTER_HEADERS.reason]: reason,
        [DEAD_LETTER_HEADERS.detail]: detail.slice(0, 4000),
        [DEAD_LETTER_HEADERS.sourceTopic]: context.topic,
        [DEAD_LETTER_HEADERS.sourcePartition]: String(context.partition),
        [DEAD_LETTER_HEADERS.sourceOffset]: context.offset,
        [DEAD_LETTER_HEADERS.consumerGroup]: this.options.groupId,
        [DEAD_LETTER_HEADERS.attempts]: String(attempts),
        [DEAD_LETTER_HEADERS.firstFailedAt]: firstFailedAt.toISOString(),
      },
    });
  }
}

/** Keys the maps kept per partition (progress, passed-by offsets, key order). */
function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function describe(error: unknown): string {
  if (error instanceof AppError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
