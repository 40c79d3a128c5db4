import type { IntentDefinition, ModelTaskResult } from '@contracts';
import type { Embeddings } from '@libs/embeddings';
import { IntentIndex, type IntentRanking } from './intent-index';

type IntentResult = Extract<ModelTaskResult, { kind: 'classify-intent' }>;

/** The nearest centroid answers when its confidence reaches the tenant's threshold. */
export function fastPathDecides(
  ranking: IntentRanking | null,
  minConfidence: number,
): ranking is IntentRanking {
  return ranking !== null && ranking.confidence >= minConfidence;
}

export function fastPathResult(ranking: IntentRanking): IntentResult {
  return { kind: 'classify-intent', path: 'fast', ...ranking };
}

/** Indexes kept (tenant x settings version); a version's examples never change, so none goes stale. */
const INDEX_CACHE_LIMIT = 200;
/** Building an index embeds every example once; one message's deadline does not cut it short. */
const INDEX_BUILD_TIMEOUT_MS = 60_000;

export interface IntentIndexKey {
  tenantId: string;
  /** The tenant settings version whose intents the index holds. */
  configVersion: number;
}

/**
 * The embeddings side of intent classification: the customer's text ranked against the centroids of
 * the tenant's examples (embedded once per tenant and settings version, then kept). Sessions ranks a
 * message itself before asking inference, and inference ranks it when sessions could not, so both
 * decide with this one class.
 */
export class IntentFastPath {
  private readonly indexes = new Map<string, Promise<IntentIndex>>();

  constructor(private readonly embeddings: Embeddings) {}

  /** The embeddings model, recorded with a fast-path decision. */
  get model(): string {
    return this.embeddings.model;
  }

  /** Null when no intent has examples (only a model can pick a label then). */
  async rank(
    key: IntentIndexKey,
    intents: readonly IntentDefinition[],
    text: string,
    signal: AbortSignal,
  ): Promise<IntentRanking | null> {
    const [index, vectors] = await Promise.all([
      untilAborted(this.indexFor(key, intents), signal),
      this.embeddings.embedQueries([text], signal),
    ]);
    const [vector] = vectors;
    return vector ? index.rank(vector) : null;
  }

  /**
   * Starts embedding a settings version's examples ahead of its first message (a conversation just
   * started under it); a failure is forgotten, and the first message tries again.
   */
  prepare(key: IntentIndexKey, intents: readonly IntentDefinition[]): void {
    this.indexFor(key, intents).catch(() => undefined);
  }

  private indexFor(key: IntentIndexKey, intents: readonly IntentDefinition[]): Promise<IntentIndex> {
    const cacheKey = `${key.tenantId}\u0000${key.configVersion}`;
    const cached = this.indexes.get(cacheKey);
    if (cached) return cached;
    const examples = intents.flatMap((intent) =>
      intent.examples.map((text) => ({ label: intent.name, text })),
    );
    const building = this.embeddings
      .embedQueries(
        examples.map((example) => example.text),
        AbortSignal.timeout(INDEX_BUILD_TIMEOUT_MS),
      )
      .then((vectors) =>
        IntentIndex.build(examples.map((example, i) => ({ label: example.label, vector: vectors[i] ?? [] }))),
      );
    // A failed build is not kept: the next message tries again.
    building.catch(() => this.indexes.delete(cacheKey));
    if (this.indexes.size >= INDEX_CACHE_LIMIT) this.indexes.clear();
    this.indexes.set(cacheKey, building);
    return building;
  }
}

/** `promise`, or the signal's reason once it aborts (the work behind the promise goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
