import type { LlmClient } from '../llm.client';
import { CanarySplit } from './canary-split';
import { fixedCanarySplit } from './canary-split-file';
import { modelBackend, ModelBackends, type BackendName } from './model-backends';

const RESILIENCE = { breakerFailures: 5, breakerHalfOpenMs: 1_000, retries: 0, retryBaseMs: 1 };

function backend(name: BackendName) {
  const client = { model: `${name}-model` } as unknown as LlmClient;
  return modelBackend(name, client, { slots: 1, maxQueuedPerTenant: 1 }, RESILIENCE);
}

const conversations = Array.from({ length: 200 }, (_, index) => `conversation-${index}`);

describe('ModelBackends routing with a canary', () => {
  const split = new CanarySplit({ default: 0, tenants: { t1: 50 } });
  const backends = new ModelBackends(backend('primary'), backend('fallback'), new Set(['vip']), {
    backend: backend('canary'),
    split: fixedCanarySplit(split),
  });

  it('tries the canary first for the conversations in its share, then the usual route', () => {
    const inCanary = conversations.filter((id) => split.isCanary('t1', id));
    const notInCanary = conversations.filter((id) => !split.isCanary('t1', id));
    expect(inCanary.length).toBeGreaterThan(0);
    expect(notInCanary.length).toBeGreaterThan(0);
    for (const id of inCanary)
      expect(backends.route('t1', id).map((b) => b.name)).toEqual(['canary', 'primary', 'fallback']);
    for (const id of notInCanary)
      expect(backends.route('t1', id).map((b) => b.name)).toEqual(['primary', 'fallback']);
  });

  it('keeps tenants outside the split, and the fallback-by-choice tenants, on their usual route', () => {
    for (const id of conversations) {
      expect(backends.route('t2', id).map((b) => b.name)).toEqual(['primary', 'fallback']);
      expect(backends.route('vip', id).map((b) => b.name)).toEqual(['fallback', 'primary']);
    }
  });

  it('routes as before without a canary', () => {
    const plain = new ModelBackends(backend('primary'), null);
    expect(plain.route('t1', 'c').map((b) => b.name)).toEqual(['primary']);
    expect(plain.isCanary('t1', 'c')).toBe(false);
    expect(plain.canarySplitLoads).toBeNull();
  });
});
