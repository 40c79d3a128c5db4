import type { RateLimits } from '@contracts';
import type { SettingsPrecondition } from '../change-settings';

export class ReplaceLimitsCommand {
  constructor(
    readonly tenantId: string,
    readonly limits: RateLimits,
    readonly precondition: SettingsPrecondition,
  ) {}
}
