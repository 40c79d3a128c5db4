import type { DataSource } from 'typeorm';

/**
 * Remembers which events a consumer has handled, for effects that are not appends with derived
 * ids (those de-duplicate in the event store itself).
 */
export class InboxRepository {
  constructor(private readonly db: DataSource) {}

  /** Runs `effect` at most once per (consumer, eventId); returns false for a redelivery. */
  async once(consumer: string, eventId: string, effect: () => Promise<void>): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows: unknown[] = await tx.query(
        `INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [consumer, eventId],
      );
      if (rows.length === 0) return false;
      await effect();
      return true;
    });
  }
}
