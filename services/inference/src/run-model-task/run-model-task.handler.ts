import { Inject, Injectable } from '@nestjs/common';
import {
  AppError,
  type EventData,
  type EventOfType,
  type ModelTaskInput,
  type ModelTaskResult,
} from '@contracts';
import { contextOf, modelTaskCompleted, modelTaskFailed, type ModelTaskOutcome } from '@libs/conversation';
import { ConversationStreams, EventStore, TenantSettingsStreams } from '@libs/event-store';
import { IntentFastPath, fastPathDecides, fastPathResult } from '@libs/intents';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { effectiveSettings } from '@libs/tenant-settings';
import { ModelDispatcher } from '../dispatch';
import {
  LLM_CLIENT,
  type ChatMessage,
  type CompleteOptions,
  type Completion,
  type LlmClient,
} from '../llm.client';
import { intentRequest, modelResult, slotRequest } from './intent-classification';
import { InvalidOutputError, parseIntent, parseSlots, parseSummary, summaryPrompt } from './task-prompts';
import type { RunModelTaskCommand } from './run-model-task.command';

export interface ModelTaskSettings {
  /** Deadline for one task, embeddings and model call together. */
  timeoutMs: number;
}

export const MODEL_TASK_SETTINGS = Symbol('MODEL_TASK_SETTINGS');

type Request = EventOfType<'conversation.model-task-requested.v1'>;
type FailureCode = EventData<'conversation.model-task-failed.v1'>['code'];
type Classify = Extract<ModelTaskInput, { kind: 'classify-intent' }>;

const SUMMARY_MAX_TOKENS = 300;

/**
 * Model work other services ask for: intent classification (embeddings fast path, then the model with
 * output constrained to the labels), slot extraction against a JSON Schema, summaries. Every task ends
 * in exactly one recorded outcome, completed or failed (the id is derived from the task), so sessions
 * and replay read the result instead of calling a model. A task already settled when it arrives (sessions
 * classified the message itself, or this is a redelivery) is left alone.
 */
@Injectable()
export class RunModelTaskHandler {
  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(TenantSettingsStreams) private readonly tenantSettings: TenantSettingsStreams,
    @Inject(LLM_CLIENT) private readonly llm: LlmClient,
    @Inject(IntentFastPath) private readonly fastPath: IntentFastPath,
    @Inject(ModelDispatcher) private readonly dispatcher: ModelDispatcher,
    @Inject(MODEL_TASK_SETTINGS) private readonly settings: ModelTaskSettings,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async execute({ request }: RunModelTaskCommand): Promise<void> {
    if (!(await this.isOpen(request))) return;
    const outcome = await this.run(request);
    await this.store.append(
      {
        tenantId: request.tenantId,
        streamId: request.conversationId,
        kind: 'conversation',
        causationId: request.eventId,
        correlationId: request.correlationId,
        expectedVersion: 'any',
      },
      [outcome],
    );
  }

  /** Still waiting for its outcome: not answered by sessions' fast path, nor by an earlier delivery. */
  private async isOpen(request: Request): Promise<boolean> {
    const state = await this.streams.load({
      tenantId: request.tenantId,
      conversationId: request.conversationId,
    });
    return request.data.taskId in contextOf(state).openTasks;
  }

  private async run(request: Request): Promise<ModelTaskOutcome> {
    const { taskId, task } = request.data;
    // Settings come from the store: an outage there is retried by the consumer, not a task failure.
    const tenant =
      task.kind === 'classify-intent'
        ? effectiveSettings(await this.tenantSettings.atVersion(request.tenantId, request.data.configVersion))
        : null;
    const startedAt = performance.now();
    const deadline = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      const { result, model } = await this.perform(request, task, tenant, deadline);
      const totalMs = Math.round((performance.now() - startedAt) * 10) / 10;
      return modelTaskCompleted({ taskId, result, model, timings: { totalMs } });
    } catch (error) {
      // A full model queue is back-pressure, not the task's failure: Kafka delivers it again later.
      if (error instanceof AppError && error.code === 'dependency-unavailable') throw error;
      const code = taskFailureCode(error, deadline.aborted);
      this.logger.warn({ err: error, taskId, kind: task.kind, code }, 'model task failed');
      return modelTaskFailed({
        taskId,
        kind: task.kind,
        code,
        message: (error instanceof Error ? error.message : String(error)).slice(0, 2_000),
      });
    }
  }

  private async perform(
    request: Request,
    task: ModelTaskInput,
    tenant: ReturnType<typeof effectiveSettings> | null,
    signal: AbortSignal,
  ): Promise<{ result: ModelTaskResult; model: string }> {
    switch (task.kind) {
      case 'classify-intent': {
        if (!tenant) throw new Error('classify-intent without settings');
        const key = { tenantId: request.tenantId, configVersion: request.data.configVersion };
        return this.classify(key, task, tenant, signal);
      }
      case 'extract-slots': {
        const { messages, options } = slotRequest(task);
        const completion = await this.complete(request.tenantId, messages, options, signal);
        return {
          result: { kind: 'extract-slots', slots: parseSlots(completion.text, task) },
          model: this.llm.model,
        };
      }
      case 'summarize': {
        const completion = await this.complete(
          request.tenantId,
          summaryPrompt(task),
          { maxTokens: SUMMARY_MAX_TOKENS, temperature: 0 },
          signal,
        );
        return {
          result: {
            kind: 'summarize',
            summary: parseSummary(completion.text),
            coversUpToSequence: task.coversUpToSequence,
          },
          model: this.llm.model,
        };
      }
      default: {
        const unexpected: never = task;
        throw new Error(`unhandled model task ${JSON.stringify(unexpected)}`);
      }
    }
  }

  /** Nearest centroid when confident enough; otherwise the model, which can only answer a known label. */
  private async classify(
    key: { tenantId: string; configVersion: number },
    task: Classify,
    { intents, fastPathMinConfidence }: ReturnType<typeof effectiveSettings>,
    signal: AbortSignal,
  ): Promise<{ result: ModelTaskResult; model: string }> {
    const ranking = await this.fastPath.rank(key, intents, task.text, signal);
    if (fastPathDecides(ranking, fastPathMinConfidence)) {
      return { result: fastPathResult(ranking), model: this.fastPath.model };
    }
    const { messages, options } = intentRequest(intents, task.text);
    const completion = await this.complete(key.tenantId, messages, options, signal);
    const label = parseIntent(
      completion.text,
      intents.map((intent) => intent.name),
    );
    return { result: modelResult(label, ranking), model: this.llm.model };
  }

  /** A model call in its turn: the dispatcher shares the server's slots between replies and tasks. */
  private complete(
    tenantId: string,
    messages: ChatMessage[],
    options: CompleteOptions,
    signal: AbortSignal,
  ): Promise<Completion> {
    return this.dispatcher.run(tenantId, () => this.llm.complete(messages, options, signal), signal);
  }
}

function taskFailureCode(error: unknown, timedOut: boolean): FailureCode {
  if (timedOut) return 'model-timeout';
  if (error instanceof InvalidOutputError) return 'invalid-output';
  return isConnectionError(error) ? 'model-unavailable' : 'model-error';
}

function isConnectionError(error: unknown): boolean {
  return (
    error instanceof Error &&
    /connect|ECONNREFUSED|ECONNRESET|fetch failed|network/i.test(`${error.name} ${error.message}`)
  );
}
