import type { DataSource } from 'typeorm';

export interface DueDelivery {
  deliveryId: string;
  tenantId: string;
  conversationId: string;
  connectorId: string;
  chatId: string;
  text: string;
  /** Counting this one. */
  attempts: number;
}

/** The `channel_deliveries` queue: claimed with a lease, so a crashed sender's rows come back after it. */
export class ChannelDeliveriesRepository {
  constructor(private readonly db: DataSource) {}

  /** Claims up to `limit` due deliveries for `leaseMs` (one short statement: no transaction held while sending). */
  async claim(limit: number, leaseMs: number): Promise<DueDelivery[]> {
    const rows: {
      delivery_id: string;
      tenant_id: string;
      conversation_id: string;
      connector_id: string;
      chat_id: string;
      text: string;
      attempts: number;
    }[] = await this.db.query(
      // A CTE, so the driver answers with the rows (a bare UPDATE ... RETURNING comes back as [rows, count]).
      `WITH claimed AS (
         UPDATE channel_deliveries SET lease_until = now() + ($2 || ' milliseconds')::interval, attempts = attempts + 1
          WHERE delivery_id IN (
            SELECT delivery_id FROM channel_deliveries
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
               AND (lease_until IS NULL OR lease_until < now())
             ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING delivery_id, tenant_id, conversation_id, connector_id, chat_id, text, attempts)
       SELECT * FROM claimed`,
      [limit, String(leaseMs)],
    );
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      tenantId: row.tenant_id,
      conversationId: row.conversation_id,
      connectorId: row.connector_id,
      chatId: row.chat_id,
      text: row.text,
      attempts: row.attempts,
    }));
  }

  async markSent(deliveryId: string, platformMessageId: string): Promise<void> {
    await this.db.query(
      `UPDATE channel_deliveries SET sent_at = now(), lease_until = NULL, platform_message_id = $2, last_error = NULL
        WHERE delivery_id = $1`,
      [deliveryId, platformMessageId],
    );
  }

  /** Schedules another attempt after `retryInMs`, or gives up (null). */
  async markFailed(deliveryId: string, error: string, retryInMs: number | null): Promise<void> {
    await this.db.query(
      retryInMs === null
        ? `UPDATE channel_deliveries SET failed_at = now(), lease_until = NULL, last_error = $2 WHERE delivery_id = $1`
        : `UPDATE channel_deliveries SET next_attempt_at = now() + ($3 || ' milliseconds')::interval,
             lease_until = NULL, last_error = $2 WHERE delivery_id = $1`,
      retryInMs === null ? [deliveryId, error] : [deliveryId, error, String(retryInMs)],
    );
  }
}
