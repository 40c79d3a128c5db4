import type { Logger } from 'pino';
import { InterruptibleDelay, type OutboxReader } from '@libs/event-store';
import type { KafkaPublisher } from './kafka.publisher';

export interface OutboxRelayOptions {
  batchSize?: number;
  /** Safety net when a notification is missed; appends normally wake the relay at once. */
  pollIntervalMs?: number;
  onPublished?: (count: number) => void;
}

/**
 * Publishes what the event store appended, in append order. Every service that appends runs one;
 * an advisory lock makes exactly one of them the publisher, and a standby takes over within its poll
 * interval if it dies.
 * A crash between publish and delete republishes a batch: consumers de-duplicate by eventId.
 */
export class OutboxRelay {
  private running = false;
  private connected = false;
  private leader = false;
  /** Set by a notification; checked before sleeping so a wake-up during a publish is not lost. */
  private appendedSinceFetch = true;
  private readonly idle = new InterruptibleDelay();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly reader: OutboxReader,
    private readonly publisher: KafkaPublisher,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions = {},
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.idle.close();
    await this.loop;
    await this.reader.close();
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    const pollIntervalMs = this.options.pollIntervalMs ?? 1_000;
    while (this.running) {
      try {
        await this.connect();
        if (!this.leader) {
          // A standby asks for the lock once a poll interval and is not woken by appends; the new
          // leader listens before its first read, so nothing appended meanwhile waits for a poll.
          this.leader = await this.reader.tryBecomeLeader();
          if (this.leader) await this.reader.listen();
        }
        if (this.leader) {
          this.appendedSinceFetch = false;
          const batch = await this.reader.nextBatch(batchSize);
          if (batch.length > 0) {
            await this.publisher.publish(batch.map(({ topic, event }) => ({ topic, event })));
            await this.reader.markPublished(batch.map((entry) => entry.outboxId));
            this.options.onPublished?.(batch.length);
          }
          if (batch.length === batchSize || this.appendedSinceFetch) continue;
        }
      } catch (error) {
        this.logger.error({ err: error }, 'outbox relay failed; reconnecting');
        await this.disconnect();
      }
      await this.idle.wait(pollIntervalMs);
    }
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    await this.reader.connect(
      () => {
        this.appendedSinceFetch = true;
        this.idle.interrupt();
      },
      (error) => {
        this.logger.error({ err: error }, 'outbox connection lost');
        this.connected = false;
        this.leader = false;
      },
    );
    this.connected = true;
  }

  private async disconnect(): Promise<void> {
    this.connected = false;
    this.leader = false;
    await this.reader.close();
  }
}
