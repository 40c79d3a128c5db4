import type { RateLimits } from '@contracts';

export class ReplaceLimitsCommand {
  constructor(
    readonly tenantId: string,
    readonly limits: RateLimits,
    /** The version the change was made against, and how the caller named it (for 409 or 412). */
    readonly precondition: { version: number; via: 'if-match' | 'body' } | null,
  ) {}
}
