import { Inject, Injectable } from '@nestjs/common';
import type { EventOfType, PendingEvent } from '@contracts';
import {
  failureCode,
  isTurnCurrent,
  nextAttempt,
  replyChunk,
  replyCompleted,
  replyFailed,
  type ReplyOutcome,
} from '@libs/conversation';
import { ConversationStreams, EventStore } from '@libs/event-store';
import { Metrics, PINO_LOGGER, type Logger } from '@libs/platform';
import { ModelDispatcher } from '../dispatch';
import { LLM_CLIENT, type LlmClient } from '../llm.client';
import type { GenerateReplyCommand } from './generate-reply.command';
import { ReplyChunker } from './reply-chunker';

export interface GenerationSettings {
  /** Whole-reply deadline, from the moment a model slot is ours. */
  timeoutMs: number;
  /** First-token deadline, from the same moment. */
  firstTokenTimeoutMs: number;
  chunkFlushMs: number;
  chunkMaxChars: number;
}

export const GENERATION_SETTINGS = Symbol('GENERATION_SETTINGS');

type Request = EventOfType<'conversation.reply-requested.v1'>;

/** Thrown into the model stream when the turn stopped being ours (conversation closed, turn answered). */
class TurnSuperseded extends Error {}

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
    @Inject(ModelDispatcher) private readonly dispatcher: ModelDispatcher,
    @Inject(GENERATION_SETTINGS) private readonly settings: GenerationSettings,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async execute({ request }: GenerateReplyCommand): Promise<void> {
    const ref = { tenantId: request.tenantId, conversationId: request.conversationId };
    const state = await this.streams.load(ref);
    const attempt = nextAttempt(state, request.data.turnId);
    if (attempt === null) return; // already answered, failed or superseded
    const outcome = await this.dispatcher.run(request.tenantId, () =>
      new TurnGeneration(this, request, attempt, state.version).run(),
    );
    if (outcome) await this.append(request, outcome);
  }

  /** Appends one fact of this turn; returns the stream version after it. */
  async append(request: Request, event: PendingEvent): Promise<number> {
    const result = await this.store.append(
      {
        tenantId: request.tenantId,
        streamId: request.conversationId,
        kind: 'conversation',
        causationId: request.eventId,
        correlationId: request.correlationId,
        expectedVersion: 'any',
      },
      [event],
    );
    return result.version;
  }

  async turnStillOpen(request: Request): Promise<boolean> {
    const state = await this.streams.load({
      tenantId: request.tenantId,
      conversationId: request.conversationId,
    });
    return isTurnCurrent(state, request.data.turnId);
  }

  get model(): LlmClient {
    return this.llm;
  }

  get config(): GenerationSettings {
    return this.settings;
  }

  observe(phase: 'first_token' | 'total', ms: number): void {
    this.metrics.modelLatency.observe({ phase }, ms / 1000);
  }

  warn(details: Record<string, unknown>, message: string): void {
    this.logger.warn(details, message);
  }
}

/** One attempt at one turn: reads the model stream while chunk appends run behind it in order. */
class TurnGeneration {
  private readonly superseded = new AbortController();
  private readonly timeout: AbortSignal;
  private readonly firstToken = new AbortController();
  private appends: Promise<void> = Promise.resolve();
  /** A chunk that could not be stored: the request must be retried, not answered. */
  private appendFailure: unknown = null;
  private chunkIndex = 0;

  constructor(
    private readonly handler: GenerateReplyHandler,
    private readonly request: Request,
    private readonly attempt: number,
    /** The stream version we last saw; any other writer moving it makes us check the turn is still ours. */
    private knownVersion: number,
  ) {
    this.timeout = AbortSignal.timeout(handler.config.timeoutMs);
  }

  /** The outcome to append, or null when the turn is no longer ours. */
  async run(): Promise<ReplyOutcome | null> {
    const { turnId, prompt, maxTokens } = this.request.data;
    const startedAt = performance.now();
    const { chunkFlushMs, chunkMaxChars } = this.handler.config;
    const chunker = new ReplyChunker(chunkFlushMs, chunkMaxChars, () => performance.now());
    const signal = AbortSignal.any([this.timeout, this.firstToken.signal, this.superseded.signal]);
    const firstTokenTimer = setTimeout(
      () => this.firstToken.abort(new Error('no first token in time')),
      this.handler.config.firstTokenTimeoutMs,
    );
    let text = '';
    let deltas = 0;
    let firstTokenMs: number | null = null;
    try {
      for await (const part of this.handler.model.streamChat(prompt, maxTokens, signal)) {
        if (part.kind === 'delta') {
          clearTimeout(firstTokenTimer);
          firstTokenMs ??= performance.now() - startedAt;
          text += part.text;
          deltas++;
          const chunk = chunker.push(part.text);
          if (chunk !== null) this.emitChunk(chunk);
          continue;
        }
        clearTimeout(firstTokenTimer);
        // Model time ends with the stream, not with our appends, which ran behind it.
        const totalMs = performance.now() - startedAt;
        const rest = chunker.drain();
        if (rest !== null) this.emitChunk(rest);
        await this.appends;
        if (this.superseded.signal.aborted) return null;
        this.handler.observe('total', totalMs);
        if (firstTokenMs !== null) this.handler.observe('first_token', firstTokenMs);
        return replyCompleted({
          turnId,
          attempt: this.attempt,
          text,
          model: this.handler.model.model,
          finishReason: part.finishReason,
          usage: {
            promptTokens: part.promptTokens ?? 0,
            completionTokens: part.completionTokens ?? deltas,
          },
          timings: { firstTokenMs: round(firstTokenMs), totalMs: round(totalMs) ?? 0 },
        });
      }
      throw new Error('the model stream ended without a finish');
    } catch (error) {
      clearTimeout(firstTokenTimer);
      await this.appends.catch(() => undefined);
      if (this.appendFailure !== null) throw asError(this.appendFailure);
      if (this.superseded.signal.aborted) return null;
      const timedOut = this.timeout.aborted || this.firstToken.signal.aborted;
      this.handler.warn({ err: error, turnId, attempt: this.attempt, timedOut }, 'model call failed');
      return replyFailed({
        turnId,
        attempt: this.attempt,
        code: failureCode({ timedOut, connectionFailed: isConnectionError(error) }),
        message: (error instanceof Error ? error.message : String(error)).slice(0, 2000),
      });
    }
  }

  /** Queues a chunk append behind the previous ones; the model stream keeps flowing meanwhile. */
  private emitChunk(text: string): void {
    const { turnId } = this.request.data;
    const chunkIndex = this.chunkIndex++;
    const event = replyChunk(turnId, this.attempt, chunkIndex, text);
    this.appends = this.appends.then(async () => {
      if (this.superseded.signal.aborted) return;
      const version = await this.handler.append(this.request, event);
      const othersWrote = version !== this.knownVersion + 1;
      this.knownVersion = version;
      if (othersWrote && !(await this.handler.turnStillOpen(this.request))) {
        this.superseded.abort(new TurnSuperseded('the turn was closed or answered elsewhere'));
      }
    });
    // Stop generating at once; run() rethrows the failure so the request is delivered again.
    this.appends.catch((error: unknown) => {
      this.appendFailure ??= error;
      this.superseded.abort(error);
    });
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
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
