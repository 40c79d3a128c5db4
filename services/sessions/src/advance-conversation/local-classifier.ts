import { Counter } from 'prom-client';
import type { IntentDefinition, PendingEvent } from '@contracts';
import { modelTaskCompleted } from '@libs/conversation';
import { fastPathDecides, fastPathResult, type IntentFastPath } from '@libs/intents';
import type { Logger, Metrics } from '@libs/platform';

type IntentDefinitions = readonly IntentDefinition[];
type ClassifyRequest = Extract<PendingEvent, { type: 'conversation.model-task-requested.v1' }> & {
  data: { task: { kind: 'classify-intent' } };
};

export interface LocalClassifierSettings {
  /** How long a message's decision waits for the embeddings; 0 leaves every message to inference. */
  timeoutMs: number;
}

/** Classifications kept for a decision taken again after a conflicting append. */
const RECENT_TASKS = 1_000;

/** What became of a message sessions tried to classify itself. */
export type LocalOutcome = 'decided' | 'deferred' | 'timeout' | 'failed';

/**
 * Sessions classifies a new message on the embeddings fast path in the step that asks for it: when
 * the nearest intent is confident enough, the task's outcome (the same model-task-completed event
 * inference would record, path `fast`) is appended with the request, and the turn goes on without a
 * round trip through Kafka and inference. Otherwise (not confident, the embeddings slow or down) the
 * request goes out alone and inference decides, with the model when needed. Replay reads the outcome;
 * it never calls the embeddings.
 */
export class LocalClassifier {
  private readonly outcomes: Counter<'outcome'>;
  /** The latest classifications by tenant and task id, oldest first out. */
  private readonly recent = new Map<string, Promise<PendingEvent | null>>();

  constructor(
    private readonly fastPath: IntentFastPath,
    private readonly settings: LocalClassifierSettings,
    metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.outcomes = new Counter({
      name: 'convo_local_intent_classifications_total',
      help: 'Messages sessions classified itself (decided) or left to inference: not confident (deferred), embeddings slower than LOCAL_CLASSIFY_TIMEOUT_MS (timeout; also while a new settings version is first embedded), embeddings failing (failed)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
  }

  /** A conversation started under this settings version: its intent index is built before its first message. */
  prepare(tenantId: string, configVersion: number, intents: IntentDefinitions): void {
    if (this.settings.timeoutMs === 0) return;
    this.fastPath.prepare({ tenantId, configVersion }, intents);
  }

  /** The outcomes sessions settles itself for the classify requests among `decided` (often none). */
  async settle(
    tenantId: string,
    decided: readonly PendingEvent[],
    intents: IntentDefinitions,
    minConfidence: number,
  ): Promise<PendingEvent[]> {
    if (this.settings.timeoutMs === 0) return [];
    const requests = decided.filter(isClassifyRequest);
    const settled = await Promise.all(
      requests.map((request) => this.classifyOnce(tenantId, request, intents, minConfidence)),
    );
    return settled.filter((outcome): outcome is PendingEvent => outcome !== null);
  }

  /**
   * A decision is taken again when its append conflicts (retrieval appended the knowledge meanwhile):
   * the classification it made is reused, not asked of the embeddings again. Keyed by tenant and
   * task id (which derives from the message).
   */
  private classifyOnce(
    tenantId: string,
    request: ClassifyRequest,
    intents: IntentDefinitions,
    minConfidence: number,
  ): Promise<PendingEvent | null> {
    const key = `${tenantId}\u0000${request.data.taskId}`;
    const known = this.recent.get(key);
    if (known) return known;
    const outcome = this.classify(tenantId, request, intents, minConfidence);
    this.recent.set(key, outcome);
    if (this.recent.size > RECENT_TASKS) this.recent.delete(this.recent.keys().next().value as string);
    return outcome;
  }

  private async classify(
    tenantId: string,
    { data }: ClassifyRequest,
    intents: IntentDefinitions,
    minConfidence: number,
  ): Promise<PendingEvent | null> {
    const startedAt = performance.now();
    const deadline = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      const ranking = await this.fastPath.rank(
        { tenantId, configVersion: data.configVersion },
        intents,
        data.task.text,
        deadline,
      );
      if (!fastPathDecides(ranking, minConfidence)) return this.counted('deferred', null);
      const totalMs = Math.round((performance.now() - startedAt) * 10) / 10;
      return this.counted(
        'decided',
        modelTaskCompleted({
          taskId: data.taskId,
          result: fastPathResult(ranking),
          model: this.fastPath.model,
          timings: { totalMs },
        }),
      );
    } catch (error) {
      if (deadline.aborted) {
        // Usually the first message of a settings version, whose examples are being embedded.
        this.logger.info(
          { taskId: data.taskId },
          'local intent classification timed out; inference classifies',
        );
        return this.counted('timeout', null);
      }
      this.logger.warn(
        { err: error, taskId: data.taskId },
        'local intent classification failed; inference classifies',
      );
      return this.counted('failed', null);
    }
  }

  private counted<T>(outcome: LocalOutcome, value: T): T {
    this.outcomes.inc({ outcome });
    return value;
  }
}

function isClassifyRequest(event: PendingEvent): event is ClassifyRequest {
  return event.type === 'conversation.model-task-requested.v1' && event.data.task.kind === 'classify-intent';
}
