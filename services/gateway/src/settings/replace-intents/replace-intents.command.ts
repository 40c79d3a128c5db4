import type { IntentDefinition } from '@contracts';

export class ReplaceIntentsCommand {
  constructor(
    readonly tenantId: string,
    readonly intents: IntentDefinition[],
    /** The version the change was made against, and how the caller named it (for 409 or 412). */
    readonly precondition: { version: number; via: 'if-match' | 'body' } | null,
  ) {}
}
