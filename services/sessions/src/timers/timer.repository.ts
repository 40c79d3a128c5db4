import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ConversationTimer } from '@libs/conversation';
import type { ConversationRef } from '@libs/event-store';

export interface ScheduledTimer {
  ref: ConversationRef;
  timer: ConversationTimer;
  dueAt: Date;
  causationId: string;
  correlationId: string;
}

interface TimerRow {
  timer_id: string;
  tenant_id: string;
  conversation_id: string;
  due_at: Date;
  payload: ConversationTimer;
  causation_id: string;
  correlation_id: string;
}

/** The durable timers in PostgreSQL (sessions_timers). */
@Injectable()
export class TimerRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Idempotent: the same timer (same derived id) is stored once, however often it is scheduled. Several
   * timers go in one statement (one round trip, one commit).
   */
  async schedule(...timers: ScheduledTimer[]): Promise<void> {
    if (timers.length === 0) return;
    const columns = 8;
    const rows = timers.map(
      (_, row) =>
        `(${Array.from({ length: columns }, (_, column) => `$${row * columns + column + 1}`).join(', ')})`,
    );
    await this.db.query(
      `INSERT INTO sessions_timers (timer_id, tenant_id, conversation_id, kind, due_at, payload, causation_id, correlation_id)
       VALUES ${rows.join(', ')} ON CONFLICT (timer_id) DO NOTHING`,
      timers.flatMap((scheduled) => [
        scheduled.timer.timerId,
        scheduled.ref.tenantId,
        scheduled.ref.conversationId,
        scheduled.timer.kind,
        scheduled.dueAt,
        JSON.stringify(scheduled.timer),
        scheduled.causationId,
        scheduled.correlationId,
      ]),
    );
  }

  /** Due timers, oldest first. `now` is the database's clock, the same for every replica. */
  async due(limit: number): Promise<ScheduledTimer[]> {
    const rows: TimerRow[] = await this.db.query(
      `SELECT timer_id, tenant_id, conversation_id, due_at, payload, causation_id, correlation_id
         FROM sessions_timers WHERE fired_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      ref: { tenantId: row.tenant_id, conversationId: row.conversation_id },
      timer: row.payload,
      dueAt: row.due_at,
      causationId: row.causation_id,
      correlationId: row.correlation_id,
    }));
  }

  async markFired(timerId: string): Promise<void> {
    await this.db.query('UPDATE sessions_timers SET fired_at = now() WHERE timer_id = $1', [timerId]);
  }
}
