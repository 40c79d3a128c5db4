import type { IntentDefinition } from '@contracts';
import type { Embeddings } from '@libs/embeddings';
import { IntentFastPath, fastPathDecides } from './intent-fast-path';
import { IntentIndex } from './intent-index';

/** Texts mentioning an axis word point along it; `gate` holds the examples' embedding back. */
class ScriptedEmbeddings implements Embeddings {
  readonly model = 'scripted-e5';
  batches: string[][] = [];
  gate: Promise<void> = Promise.resolve();

  async embedQueries(texts: readonly string[]): Promise<number[][]> {
    this.batches.push([...texts]);
    if (texts.length > 1) await this.gate;
    return texts.map((text) => ['parcel', 'refund'].map((axis) => (text.includes(axis) ? 1 : 0) + 0.05));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

const INTENTS: IntentDefinition[] = [
  {
    name: 'order_status',
    description: 'parcels',
    examples: ['parcel where', 'parcel late'],
    slots: [],
    handoff: false,
  },
  { name: 'refund', description: 'money back', examples: ['refund please'], slots: [], handoff: false },
  { name: 'other', description: 'anything else', examples: [], slots: [], handoff: false },
];
const KEY = { tenantId: 'acme', configVersion: 1 };

describe('IntentIndex', () => {
  it('ranks the nearest centroid first with a softmax confidence, and gives labels without examples no centroid', () => {
    const index = IntentIndex.build([
      { label: 'order_status', vector: [1, 0] },
      { label: 'refund', vector: [0, 1] },
    ]);

    const ranking = index.rank([0.9, 0.1]);

    expect(index.labels).toEqual(['order_status', 'refund']);
    expect(ranking?.label).toBe('order_status');
    expect(ranking?.confidence).toBeGreaterThan(0.99);
    expect(ranking?.candidates).toEqual([{ label: 'refund', score: expect.any(Number) }]);
    expect(IntentIndex.build([]).rank([1, 0])).toBeNull();
  });
});

describe('IntentFastPath', () => {
  it('embeds a settings version’s examples once, and each version apart', async () => {
    const embeddings = new ScriptedEmbeddings();
    const fastPath = new IntentFastPath(embeddings);
    const signal = AbortSignal.timeout(1_000);

    const first = await fastPath.rank(KEY, INTENTS, 'my parcel', signal);
    await fastPath.rank(KEY, INTENTS, 'a refund', signal);
    await fastPath.rank({ ...KEY, configVersion: 2 }, INTENTS, 'a refund', signal);

    expect(first?.label).toBe('order_status');
    expect(embeddings.batches.filter((batch) => batch.length === 3)).toHaveLength(2);
  });

  it('gives up on a message at its deadline, while the index build goes on for the next message', async () => {
    const embeddings = new ScriptedEmbeddings();
    let release = () => {};
    embeddings.gate = new Promise((resolve) => (release = resolve));
    const fastPath = new IntentFastPath(embeddings);

    await expect(fastPath.rank(KEY, INTENTS, 'my parcel', AbortSignal.timeout(20))).rejects.toThrow();
    release();
    const ranking = await fastPath.rank(KEY, INTENTS, 'my parcel', AbortSignal.timeout(1_000));

    expect(fastPathDecides(ranking, 0.75)).toBe(true);
    expect(embeddings.batches.filter((batch) => batch.length === 3)).toHaveLength(1);
  });
});
