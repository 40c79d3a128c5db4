import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ConversationSearch } from '@contracts';

export class FindByReferenceQuery {
  constructor(
    readonly tenantId: string,
    readonly reference: string,
  ) {}
}

/**
 * Finds a conversation by its readable reference. The reference-assigned events are the index
 * (gateway_references_idx, unique per tenant): nothing to keep in sync.
 */
@Injectable()
export class FindByReferenceHandler {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async execute({ tenantId, reference }: FindByReferenceQuery): Promise<ConversationSearch> {
    const rows: { stream_id: string; reference: string; started_at: Date }[] = await this.db.query(
      `SELECT r.stream_id, r.data->>'reference' AS reference, s.occurred_at AS started_at
         FROM events r JOIN events s ON s.tenant_id = r.tenant_id AND s.stream_id = r.stream_id AND s.sequence = 1
        WHERE r.tenant_id = $1 AND r.type = 'conversation.reference-assigned.v1' AND r.data->>'reference' = $2`,
      [tenantId, reference],
    );
    return {
      conversations: rows.map((row) => ({
        conversationId: row.stream_id,
        reference: row.reference,
        startedAt: row.started_at.toISOString(),
      })),
    };
  }
}
