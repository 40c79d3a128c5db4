/**
 * Misuse of the log (an index past the end, a size that went backwards) and stores that do not hold
 * what they should. Verification failures are not errors: verifiers return them as values.
 */
export type AuditLogErrorCode =
  | 'index-out-of-range'
  | 'tree-size-invalid'
  | 'append-conflict'
  | 'node-missing'
  | 'key-invalid'
  | 'tree-head-invalid'
  | 'export-invalid';

export class AuditLogError extends Error {
  constructor(
    readonly code: AuditLogErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AuditLogError';
  }
}
