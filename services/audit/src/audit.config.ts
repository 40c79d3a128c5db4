import { z } from 'zod';
import { CommonConfig } from '@libs/config';

export const AuditConfigSchema = z.object({
  ...CommonConfig,
  AUDIT_PORT: z.coerce.number().int().default(3004),
});

export type AuditConfig = z.output<typeof AuditConfigSchema>;
