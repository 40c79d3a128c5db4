import { TenantSettingsSchema } from '@contracts';
import { DEFAULT_INTENTS, effectiveSettings } from './default-settings';

describe('the default settings', () => {
  it('are valid tenant settings, with the nine e-commerce intents', () => {
    expect(
      TenantSettingsSchema.parse({ intents: DEFAULT_INTENTS }).intents?.map((intent) => intent.name),
    ).toEqual([
      'greeting',
      'order_status',
      'refund',
      'return_exchange',
      'product_question',
      'complaint',
      'human_agent',
      'goodbye',
      'other',
    ]);
  });

  it('apply only where the tenant set nothing', () => {
    const mine = [{ ...DEFAULT_INTENTS[0]!, name: 'hello' }];

    expect(effectiveSettings({}).intents).toBe(DEFAULT_INTENTS);
    expect(effectiveSettings({ intents: mine }).intents).toBe(mine);
    expect(effectiveSettings({ inactivityTimeoutSeconds: 60 }).inactivityTimeoutSeconds).toBe(60);
    expect(effectiveSettings({ templates: { x: { en: 'x' } } }).templates).toMatchObject({
      x: { en: 'x' },
      handoff_notice: expect.any(Object),
    });
  });
});
