import type { MigrationSet } from '@libs/event-store';
import { ConversationSummaries1764633600100 } from './1764633600100-conversation-summaries';
import { AuditLog1764633600200 } from './1764633600200-audit-log';
import { ConversationAnalytics1764633600400 } from './1764633600400-conversation-analytics';

/** The tables the audit service owns, migrated by the service itself at boot. */
export const AUDIT_TABLES: MigrationSet = {
  owner: 'audit',
  migrations: [ConversationSummaries1764633600100, AuditLog1764633600200, ConversationAnalytics1764633600400],
};
