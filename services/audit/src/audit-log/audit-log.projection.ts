import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Projection, RecordedEvent } from '@libs/event-store';
import { appendToLog, type LoggableEvent } from './audit-log.repository';

/**
 * Every event of the store becomes a leaf of its tenant's audit log, in read-all order, in the batch's
 * transaction (the one that moves the checkpoint): no entry lost or logged twice across a crash. The
 * leaf hashes the event as stored (`RecordedEvent.stored`), never its upcast form, so a later upcaster
 * changes no leaf.
 */
@Injectable()
export class AuditLogProjection implements Projection {
  readonly name = 'audit.log';

  async apply(events: readonly RecordedEvent[], tx: EntityManager): Promise<void> {
    const byTenant = new Map<string, LoggableEvent[]>();
    for (const { stored, position } of events) {
      const list = byTenant.get(stored.tenantId) ?? [];
      list.push({ event: stored, globalPosition: position.position });
      byTenant.set(stored.tenantId, list);
    }
    // Tenants in a fixed order, so two appenders never lock each other's trees the other way round.
    for (const tenantId of [...byTenant.keys()].sort()) {
      await appendToLog(tx, tenantId, byTenant.get(tenantId)!);
    }
  }

  async reset(tx: EntityManager): Promise<void> {
    // Only for tests and benchmarks: a log is never rebuilt in production (its heads are signed).
    await tx.query('DELETE FROM audit_tree_heads');
    await tx.query('DELETE FROM audit_log_entries');
    await tx.query('DELETE FROM audit_log_nodes');
    await tx.query('DELETE FROM audit_log_sizes');
  }
}
