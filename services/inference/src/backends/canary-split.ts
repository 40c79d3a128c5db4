import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Buckets a conversation can fall in: a percentage has two decimals of resolution. */
const BUCKETS = 10_000;

const PercentSchema = z.number().min(0).max(100);

/**
 * Which share of each tenant's conversations the canary (candidate) model answers, in percent.
 * `default` applies to tenants not listed. Kept in a file so operators promote (raise to 100) or roll
 * back (set to 0) by editing it; inference reloads it without a restart.
 */
export const CanarySplitSchema = z
  .object({
    default: PercentSchema.default(0),
    tenants: z.record(z.string().min(1), PercentSchema).default({}),
  })
  .strict();
export type CanarySplitSettings = z.output<typeof CanarySplitSchema>;

/**
 * The bucket of a conversation, from a hash of its id: the same conversation always lands in the same
 * bucket, with no clock and no randomness, so a replay or a redelivered request makes the same choice
 * and raising a percentage only adds conversations to the canary (those below the new threshold).
 */
export function canaryBucket(conversationId: string): number {
  return createHash('sha256').update(conversationId).digest().readUInt32BE(0) % BUCKETS;
}

/** The split of one configuration: which conversations go to the canary. */
export class CanarySplit {
  static readonly none = new CanarySplit({ default: 0, tenants: {} });

  constructor(private readonly settings: CanarySplitSettings) {}

  percentOf(tenantId: string): number {
    return this.settings.tenants[tenantId] ?? this.settings.default;
  }

  isCanary(tenantId: string, conversationId: string): boolean {
    return canaryBucket(conversationId) < (this.percentOf(tenantId) * BUCKETS) / 100;
  }
}

/** Parses a split file's text; the error lists what is wrong. */
export function parseCanarySplit(text: string): CanarySplit {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `the canary split is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = CanarySplitSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`the canary split is invalid: ${issues.join('; ')}`);
  }
  return new CanarySplit(parsed.data);
}
