import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface CacheEntry {
  conversationId: string;
  turnId: string;
}

/** The tenant answer cache in PostgreSQL (sessions_answer_cache). Every query is scoped by tenant. */
@Injectable()
export class AnswerCacheRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** The completed turn that answered `cacheKey` for the tenant, if any. */
  async find(tenantId: string, cacheKey: string): Promise<CacheEntry | null> {
    const rows: { conversation_id: string; turn_id: string }[] = await this.db.query(
      `SELECT conversation_id, turn_id FROM sessions_answer_cache
        WHERE tenant_id = $1 AND cache_key = $2 AND completed`,
      [tenantId, cacheKey],
    );
    const row = rows[0];
    return row === undefined ? null : { conversationId: row.conversation_id, turnId: row.turn_id };
  }

  /**
   * Claims the key for a turn about to be generated. A completed entry is kept; an uncompleted one
   * (its turn failed or was never appended) is taken over, so one failure does not block the key.
   */
  async claim(tenantId: string, cacheKey: string, entry: CacheEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO sessions_answer_cache (tenant_id, cache_key, conversation_id, turn_id)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, cache_key) DO UPDATE
         SET conversation_id = EXCLUDED.conversation_id, turn_id = EXCLUDED.turn_id
         WHERE NOT sessions_answer_cache.completed`,
      [tenantId, cacheKey, entry.conversationId, entry.turnId],
    );
  }

  /** The turn's reply is complete: its entry (if it claimed one) can now be served. */
  async complete(tenantId: string, turnId: string): Promise<void> {
    await this.db.query(
      `UPDATE sessions_answer_cache SET completed = true WHERE tenant_id = $1 AND turn_id = $2`,
      [tenantId, turnId],
    );
  }

  /** Drops a turn's entry: its source is gone (erased) or unusable. */
  async forget(tenantId: string, cacheKey: string): Promise<void> {
    await this.db.query(`DELETE FROM sessions_answer_cache WHERE tenant_id = $1 AND cache_key = $2`, [
      tenantId,
      cacheKey,
    ]);
  }

  /** The tenant's knowledge base changed: no answer given before may be reused. */
  async invalidateTenant(tenantId: string): Promise<void> {
    await this.db.query(`DELETE FROM sessions_answer_cache WHERE tenant_id = $1`, [tenantId]);
  }
}
