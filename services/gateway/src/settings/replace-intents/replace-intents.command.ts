import type { IntentDefinition } from '@contracts';
import type { SettingsPrecondition } from '../change-settings';

export class ReplaceIntentsCommand {
  constructor(
    readonly tenantId: string,
    readonly intents: IntentDefinition[],
    readonly precondition: SettingsPrecondition,
  ) {}
}
