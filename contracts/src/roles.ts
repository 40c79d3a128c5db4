import { z } from 'zod';

/**
 * What an API key may do within its tenant (issue 10). A key has exactly one role; routes name the
 * roles they admit, and nothing admits another tenant.
 * - frontend: a contact-centre frontend: start conversations, send messages, read them.
 * - agent: a human agent's desk: the frontend's rights (taking over a conversation later).
 * - analyst: analytics and replays, with personal data redacted; cannot write.
 * - compliance: audit log, exports, raw (unredacted) data; every raw read is itself logged.
 * - admin: the tenant's operator: tree heads and verification, everything an analyst sees.
 */
export const ROLES = ['frontend', 'agent', 'analyst', 'compliance', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;
export const DEFAULT_ROLE: Role = 'frontend';
