import { Inject, Injectable } from '@nestjs/common';
import type { PendingEvent } from '@contracts';
import { contextOf, derivedId } from '@libs/conversation';
import { ConversationStreams, EventStore } from '@libs/event-store';
import { Metrics, PINO_LOGGER, type Logger } from '@libs/platform';
import { LLM_CLIENT, type LlmClient } from '../llm.client';
import type { GenerateReplyCommand } from './generate-reply.command';
import { ReplyChunker } from './reply-chunker';

export interface GenerationSettings {
  timeoutMs: number;
  chunkFlushMs: number;
  chunkMaxChars: number;
}

export const GENERATION_SETTINGS = Symbol('GENERATION_SETTINGS');

type Outcome = Extract<
  PendingEvent,
  { type: 'conversation.reply-completed.v1' | 'conversation.reply-failed.v1' }
>;

/**
 * Streams one model reply into the conversation: batched chunk events while it generates, then
 * exactly one completion (or failure). The completion's id is derived from the turn, so however
 * often the request is delivered or retried, the store accepts one completion per turn.
 */
@Injectable()
export class GenerateReplyHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(LLM_CLIENT) private readonly llm: LlmClient,
    @Inject(GENERATION_SETTINGS) private readonly settings: GenerationSettings,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async execute({ request }: GenerateReplyCommand): Promise<void> {
    const ref = { tenantId: request.tenantId, conversationId: request.conversationId };
    const state = await this.streams.load(ref);
    const turn = contextOf(state).activeTurn;
    if (turn?.turnId !== request.data.turnId) return; // already answered, failed or superseded
    const attempt = turn.attempt + 1;
    const causation = { causationId: request.eventId, correlationId: request.correlationId };
    const appendFact = (event: PendingEvent) =>
      this.store.append({ ...ref, ...causation, expectedVersion: 'any' }, [event]);

    const outcome = await this.generate(request.data, attempt, (chunkIndex, text) =>
      appendFact({
        eventId: derivedId(request.data.turnId, 'chunk', String(attempt), String(chunkIndex)),
        type: 'conversation.reply-chunk-generated.v1',
        data: { turnId: request.data.turnId, attempt, chunkIndex, text },
      }),
    );
    await appendFact(outcome);
  }

  private async generate(
    request: {
      turnId: string;
      prompt: { role: 'system' | 'user' | 'assistant'; content: string }[];
      maxTokens: number;
    },
    attempt: number,
    emitChunk: (chunkIndex: number, text: string) => Promise<unknown>,
  ): Promise<Outcome> {
    const startedAt = performance.now();
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    const chunker = new ReplyChunker(this.settings.chunkFlushMs, this.settings.chunkMaxChars, () =>
      performance.now(),
    );
    let text = '';
    let chunkIndex = 0;
    let firstTokenMs: number | null = null;
    try {
      for await (const part of this.llm.streamChat(request.prompt, request.maxTokens, signal)) {
        if (part.kind === 'delta') {
          firstTokenMs ??= performance.now() - startedAt;
          text += part.text;
          const chunk = chunker.push(part.text);
          if (chunk !== null) await emitChunk(chunkIndex++, chunk);
          continue;
        }
        const rest = chunker.drain();
        if (rest !== null) await emitChunk(chunkIndex++, rest);
        const totalMs = performance.now() - startedAt;
        this.metrics.modelLatency.observe({ phase: 'total' }, totalMs / 1000);
        if (firstTokenMs !== null)
          this.metrics.modelLatency.observe({ phase: 'first_token' }, firstTokenMs / 1000);
        return {
          eventId: derivedId(request.turnId, 'completed'),
          type: 'conversation.reply-completed.v1',
          data: {
            turnId: request.turnId,
            attempt,
            text,
            model: this.llm.model,
            finishReason: part.finishReason,
            usage: {
              promptTokens: part.promptTokens ?? 0,
              completionTokens: part.completionTokens ?? chunkIndex,
            },
            timings: { firstTokenMs: round(firstTokenMs), totalMs: round(totalMs) ?? 0 },
          },
        };
      }
      throw new Error('the model stream ended without a finish');
    } catch (error) {
      const timedOut = signal.aborted;
      this.logger.warn({ err: error, turnId: request.turnId, attempt, timedOut }, 'model call failed');
      return {
        eventId: derivedId(request.turnId, 'failed'),
        type: 'conversation.reply-failed.v1',
        data: {
          turnId: request.turnId,
          attempt,
          code: timedOut ? 'model-timeout' : isConnectionError(error) ? 'model-unavailable' : 'model-error',
          message: (error instanceof Error ? error.message : String(error)).slice(0, 2000),
        },
      };
    }
  }
}

function round(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 10) / 10;
}

function isConnectionError(error: unknown): boolean {
  return (
    error instanceof Error &&
    /connect|ECONNREFUSED|ECONNRESET|fetch failed|network/i.test(`${error.name} ${error.message}`)
  );
}
