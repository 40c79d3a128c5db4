/**
 * What the audit service lends to code outside it (bench/audit): its projections, log and analytics,
 * to run them against a database without booting the service.
 */
export { AuditLogProjection, AuditLogService } from './audit-log';
export { ConversationSummaryProjection } from './conversation-summaries';
export { ConversationAnalyticsRepository, exportLines } from './analytics';
export { AUDIT_TABLES } from './migrations';
