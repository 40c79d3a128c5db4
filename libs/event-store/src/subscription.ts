import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { InterruptibleDelay } from './interruptible-delay';
import { START_OF_STORE, type EventStore, type GlobalPosition, type RecordedEvent } from './event-store';

/**
 * A reader of the whole store that keeps its own state in PostgreSQL (a projection, the audit log):
 * it receives every event once, in the global order, in batches, each inside the transaction that also
 * moves its checkpoint. What it writes and how far it got commit together, so a crash at any point
 * neither loses nor repeats an event.
 */
export interface Projection {
  /** Unique name; also the checkpoint's key. */
  readonly name: string;
  apply(events: readonly RecordedEvent[], tx: EntityManager): Promise<void>;
  /** Deletes everything the projection wrote, before a rebuild from the start of the store. */
  reset(tx: EntityManager): Promise<void>;
}

export interface SubscriptionOptions {
  batchSize?: number;
  /** How often an idle subscription looks for new events. */
  pollIntervalMs?: number;
  onBatch?: (count: number) => void;
}

/** Runs one projection from its stored checkpoint, for as long as the service lives. */
export class CheckpointedSubscription {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly idle = new InterruptibleDelay();
  private caughtUp = false;
  /** Where this instance's last batch left the checkpoint; null: read it from the table. */
  private position: GlobalPosition | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly store: EventStore,
    private readonly projection: Projection,
    private readonly logger: Logger,
    private readonly options: SubscriptionOptions = {},
  ) {}

  get name(): string {
    return this.projection.name;
  }

  /** True once the subscription has read up to the end of the store at least once (readiness). */
  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.idle.close();
    await this.loop;
  }

  /**
   * Handles batches until the store has nothing more to give; returns how many events were handled.
   * It starts from the checkpoint as stored, so a checkpoint deleted to rebuild the projection (or
   * moved by another instance) is seen at the next poll.
   */
  async catchUp(): Promise<number> {
    this.position = null;
    let total = 0;
    for (;;) {
      const handled = await this.step();
      if (handled === 0) return total;
      total += handled;
    }
  }

  /** Forgets the checkpoint and what the projection wrote, in one transaction; the next run starts over. */
  async reset(): Promise<void> {
    this.position = null;
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM subscription_checkpoints WHERE name = $1', [this.projection.name]);
      await this.projection.reset(tx);
    });
  }

  async checkpoint(): Promise<GlobalPosition> {
    const rows: CheckpointRow[] = await this.db.query(
      'SELECT transaction_id::text, global_position FROM subscription_checkpoints WHERE name = $1',
      [this.projection.name],
    );
    return positionOf(rows);
  }

  /**
   * One batch: read after the checkpoint, then apply and move the checkpoint in one transaction. The
   * checkpoint row is locked and compared first, so two instances never apply the same batch twice.
   * Within one catch-up, the next batch starts where this instance's last one committed the checkpoint,
   * without reading it again; when another instance moved it meanwhile, the comparison fails and the
   * next step reads it from the table.
   */
  private async step(): Promise<number> {
    // Cleared until the batch commits: a failed step reads the checkpoint again.
    const from = this.position ?? (await this.checkpoint());
    this.position = null;
    const events = await this.store.readAll(from, this.options.batchSize ?? 500);
    const last = events.at(-1);
    if (!last) return 0;
    const applied = await this.db.transaction(async (tx) => {
      const current = await this.lockCheckpoint(tx);
      if (current.transactionId !== from.transactionId || current.position !== from.position) {
        return false; // another instance moved on meanwhile: read again from where it got to
      }
      await this.projection.apply(events, tx);
      await tx.query(
        `UPDATE subscription_checkpoints SET transaction_id = $2::xid8, global_position = $3, updated_at = now()
          WHERE name = $1`,
        [this.projection.name, last.position.transactionId, last.position.position],
      );
      return true;
    });
    if (applied) {
      this.position = last.position;
      this.options.onBatch?.(events.length);
    }
    return events.length;
  }

  /** The checkpoint, locked for this transaction; its row is created the first time. */
  private async lockCheckpoint(tx: EntityManager): Promise<GlobalPosition> {
    const select =
      'SELECT transaction_id::text, global_position FROM subscription_checkpoints WHERE name = $1 FOR UPDATE';
    let rows: CheckpointRow[] = await tx.query(select, [this.projection.name]);
    if (rows.length === 0) {
      await tx.query(
        `INSERT INTO subscription_checkpoints (name, transaction_id, global_position) VALUES ($1, '0', 0)
         ON CONFLICT (name) DO NOTHING`,
        [this.projection.name],
      );
      rows = await tx.query(select, [this.projection.name]);
    }
    return positionOf(rows);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const handled = await this.catchUp();
        this.caughtUp = true;
        if (handled > 0) continue;
      } catch (error) {
        this.logger.error(
          { err: error, subscription: this.projection.name },
          'subscription failed; retrying',
        );
      }
      await this.idle.wait(this.options.pollIntervalMs ?? 250);
    }
  }
}

interface CheckpointRow {
  transaction_id: string;
  global_position: string;
}

/** The stored checkpoint; no row yet is the start of the store. */
function positionOf(rows: CheckpointRow[]): GlobalPosition {
  const row = rows[0];
  return row ? { transactionId: row.transaction_id, position: row.global_position } : START_OF_STORE;
}
