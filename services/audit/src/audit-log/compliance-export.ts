import { z } from 'zod';
import { hasPersonalFields } from '@contracts';
import type { PersonalDataCipher } from '@libs/event-store';
import {
  createAuditExport,
  ENTRIES_FILE,
  MANIFEST_FILE,
  type AuditExportFiles,
  type ExportedEntry,
} from '@libs/audit-log';
import { ENTRY_COLUMNS, entryFromRow, type EntryRow } from './audit-log.repository';
import type { AuditLogService } from './audit-log.service';
import type { Queryable } from './postgres-merkle-store';

const Instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text).toISOString());

/** What a compliance export covers: a tenant's whole log, or one conversation, within a time range. */
export const ExportScopeSchema = z
  .object({
    conversationId: z.uuid().optional(),
    /** Inclusive, an ISO instant. */
    from: Instant.optional(),
    /** Exclusive, an ISO instant. */
    to: Instant.optional(),
  })
  .strict();
export type ExportScope = z.output<typeof ExportScopeSchema>;

export interface ComplianceExport {
  files: Record<typeof MANIFEST_FILE | typeof ENTRIES_FILE, string>;
  entries: number;
}

/**
 * The entries in scope with each event's data as stored (personal text sealed) and, for events with
 * personal fields, its readable rendering ([erased] once erased), proven against a tree head signed now: the
 * JSONL and the manifest that `npm run audit:verify` checks offline with the public key alone.
 * Built in memory: an export is one conversation or a bounded period (a streamed variant would write
 * the entries file first and the manifest last).
 */
export async function buildComplianceExport(
  db: Queryable,
  log: AuditLogService,
  cipher: PersonalDataCipher,
  tenantId: string,
  scope: ExportScope,
): Promise<ComplianceExport> {
  const head = await log.signTreeHead(tenantId);
  const rows: (EntryRow & { data: unknown })[] = await db.query(
    `SELECT ${ENTRY_COLUMNS}, ev.data FROM audit_log_entries e
       LEFT JOIN events ev ON ev.event_id = e.event_id
      WHERE e.tenant_id = $1 AND e.index < $2
        AND ($3::text IS NULL OR e.stream_id = $3)
        AND ($4::text IS NULL OR e.occurred_at >= $4)
        AND ($5::text IS NULL OR e.occurred_at < $5)
      ORDER BY e.index`,
    [tenantId, head.treeSize, scope.conversationId ?? null, scope.from ?? null, scope.to ?? null],
  );
  // Conversation events with personal fields also get their data opened, for people to read.
  const personal = rows.filter((row) => row.data !== null && hasPersonalFields(row.type));
  const opened = await cipher.open(
    personal.map((row) => ({
      eventId: row.event_id,
      type: row.type,
      tenantId,
      conversationId: row.stream_id,
      data: row.data,
    })),
  );
  const readable = new Map(opened.map((event) => [event.eventId, event.data]));
  const entries: ExportedEntry[] = rows.map((row) => {
    if (row.data === null) return { entry: entryFromRow(row) };
    const open = readable.get(row.event_id);
    return open === undefined
      ? { entry: entryFromRow(row), data: row.data }
      : { entry: entryFromRow(row), data: row.data, readable: open };
  });
  const files: AuditExportFiles = await createAuditExport({
    tree: log.tree(tenantId),
    treeHead: head,
    entries,
    scope: { ...scope },
    key: log.signingKey,
  });
  return {
    files: { [MANIFEST_FILE]: files.manifest, [ENTRIES_FILE]: files.entries },
    entries: entries.length,
  };
}
