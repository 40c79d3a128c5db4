import { decideSettings, evolveSettings, initialSettingsState } from './tenant-settings';

describe('a tenant’s rate limits in its settings stream', () => {
  const limits = { tenant: { requestsPerMinute: 600 }, perKey: { tokensPerMinute: 20_000 } };

  it('are set as their own event and replace the previous limits, leaving the settings as they were', () => {
    const state = { ...initialSettingsState(), settings: { historyLimit: 4 } };
    const [event] = decideSettings({ type: 'replace-limits', eventId: 'e1', limits }, state);

    expect(event).toEqual({ eventId: 'e1', type: 'tenant.limits-set.v1', data: { limits } });
    const next = evolveSettings(state, {
      ...event!,
      type: 'tenant.limits-set.v1',
      data: { limits },
      tenantId: 'acme',
      streamId: 'settings',
      sequence: 2,
      occurredAt: '2026-12-02T00:00:00.000Z',
      causationId: null,
      correlationId: 'e1',
    });
    expect(next).toEqual({ settings: { historyLimit: 4 }, limits });
  });

  it('setting the same limits again records nothing, so a retry is harmless', () => {
    const state = { ...initialSettingsState(), limits };
    expect(decideSettings({ type: 'replace-limits', eventId: 'e2', limits }, state)).toEqual([]);
  });
});
