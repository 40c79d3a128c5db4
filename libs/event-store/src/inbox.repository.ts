import type { DataSource, EntityManager } from 'typeorm';

/**
 * Remembers which events a consumer has handled, for effects that are not appends with derived
 * ids (those de-duplicate in the event store itself).
 */
export class InboxRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Runs `effect` at most once per (consumer, eventId); returns false for a redelivery. The effect gets
   * the transaction that also records the event as handled: write through it, and the write and the
   * "handled" mark commit (or roll back) together.
   */
  async once(
    consumer: string,
    eventId: string,
    effect: (tx: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows: unknown[] = await tx.query(
        `INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [consumer, eventId],
      );
      if (rows.length === 0) return false;
      await effect(tx);
      return true;
    });
  }
}
