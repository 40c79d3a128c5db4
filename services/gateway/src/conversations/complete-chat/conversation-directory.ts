import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Which tenant holds a conversation id. Streams are keyed by (tenant, id), so two tenants could hold
 * the same id; the facade creates a client-named conversation on first use and must not do so for an
 * id another tenant already holds (that answers 404, like an unknown conversation on the REST API).
 */
@Injectable()
export class ConversationDirectory {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async heldByAnotherTenant(tenantId: string, conversationId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM streams WHERE stream_id = $1 AND kind = 'conversation' AND tenant_id <> $2 LIMIT 1`,
      [conversationId, tenantId],
    );
    return rows.length > 0;
  }
}
