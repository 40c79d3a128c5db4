import { Inject, Injectable } from '@nestjs/common';
import { BrokenCircuitError } from 'cockatiel';
import {
  AppError,
  type BackendSwitchReason,
  type EventData,
  type EventOfType,
  type PendingEvent,
} from '@contracts';
import { FilterStream, REPLACED_REPLY, verdictOf, type FilterMatch } from '@libs/content-filter';
import {
  contentFlagged,
  failureCode,
  isTurnCurrent,
  nextAttempt,
  replyBackendSwitched,
  replyChunk,
  replyCompleted,
  replyFailed,
  type ReplyOutcome,
} from '@libs/conversation';
import { ContentFilterLists, ConversationStreams, EventStore } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { BackendFault, ModelBackends, type ModelBackend } from '../backends';
import { InferenceMetrics } from '../inference.metrics';
import { ModelCallError, type StreamPart } from '../llm.client';
import { continuationPrompt, RepeatTrimmer } from './continuation';
import type { GenerateReplyCommand } from './generate-reply.command';
import { ReplyChunker } from './reply-chunker';

export interface GenerationSettings {
  /** Whole-reply deadline, from the moment the first model slot is ours, across backends. */
  timeoutMs: number;
  /** First-token deadline of each backend call, from the moment its slot is ours. */
  firstTokenTimeoutMs: number;
  /** A started stream that sends no token for this long has stalled: the reply moves on. */
  stallTimeoutMs: number;
  chunkFlushMs: number;
  chunkMaxChars: number;
}

export const GENERATION_SETTINGS = Symbol('GENERATION_SETTINGS');

type Request = EventOfType<'conversation.reply-requested.v1'>;
type ReplyPart = EventData<'conversation.reply-completed.v2'>['parts'][number];
type Finished = Extract<StreamPart, { kind: 'done' }>;

/** The part of a replaced reply: the engine wrote it, not a model. */
const FILTER_PART = { backend: 'content-filter', model: 'content-filter' } as const;

/** Thrown into the model stream when the word list blocks the reply: nothing more is generated. */
class ReplyBlocked extends Error {}

/** Thrown into the model stream when the turn stopped being ours (conversation closed, turn answered). */
class TurnSuperseded extends Error {}

/** A backend call's own deadline passed (first token, or the next token of a started stream). */
class CallDeadline extends Error {
  constructor(readonly reason: 'first-token-timeout' | 'stalled') {
    super(reason === 'first-token-timeout' ? 'no first token in time' : 'the stream stalled');
  }
}

/**
 * Streams one model reply into the conversation: batched chunk events while it generates, then
 * exactly one completion (or failure). The completion's id is derived from the turn, so however
 * often the request is delivered or retried, the store accepts one completion per turn. When a
 * backend fails (before or during the stream) the reply moves to the next backend, which continues
 * from the text already delivered; each move is a switch event.
 */
@Injectable()
export class GenerateReplyHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(ModelBackends) private readonly modelBackends: ModelBackends,
    @Inject(GENERATION_SETTINGS) private readonly settings: GenerationSettings,
    @Inject(InferenceMetrics) readonly metrics: InferenceMetrics,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
    @Inject(ContentFilterLists) private readonly filters: ContentFilterLists,
  ) {}

  async execute({ request }: GenerateReplyCommand): Promise<void> {
    const ref = { tenantId: request.tenantId, conversationId: request.conversationId };
    const state = await this.streams.load(ref);
    const attempt = nextAttempt(state, request.data.turnId);
    if (attempt === null) return; // already answered, failed or superseded
    // The reply keeps the list it started with; a list replaced meanwhile applies from the next reply.
    const screen = new FilterStream(await this.filters.filterOf(request.tenantId));
    const generation = new TurnGeneration(this, request, attempt, state.version, screen);
    const outcome = await generation.run();
    if (outcome) await this.append(request, outcome, ...generation.flags());
  }

  /** Appends facts of this turn (one, or a completion and its flag together); returns the stream version after them. */
  async append(request: Request, ...events: PendingEvent[]): Promise<number> {
    const result = await this.store.append(
      {
        tenantId: request.tenantId,
        streamId: request.conversationId,
        kind: 'conversation',
        causationId: request.eventId,
        correlationId: request.correlationId,
        expectedVersion: 'any',
      },
      events,
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

  get backends(): ModelBackends {
    return this.modelBackends;
  }

  get config(): GenerationSettings {
    return this.settings;
  }

  warn(details: Record<string, unknown>, message: string): void {
    this.logger.warn(details, message);
  }
}

/** One attempt at one turn: reads the model streams while appends run behind them in order. */
class TurnGeneration {
  private readonly superseded = new AbortController();
  private readonly deadline = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly turnSignal: AbortSignal;
  private appends: Promise<void> = Promise.resolve();
  /** A chunk that could not be stored: the request must be retried, not answered. */
  private appendFailure: unknown = null;
  private chunkIndex = 0;
  private switches = 0;
  private readonly chunker: ReplyChunker;
  /** All reply text so far, whoever wrote it: what the customer has seen or is about to. */
  private delivered = '';
  private readonly parts: ReplyPart[] = [];
  private deltas = 0;
  /** The reply as released by the word list (masked); what chunks and the completion carry. */
  private shown = '';
  private readonly matches: FilterMatch[] = [];
  private readonly blocked = new AbortController();
  private startedAt: number | null = null;
  private firstTokenMs: number | null = null;

  constructor(
    private readonly handler: GenerateReplyHandler,
    private readonly request: Request,
    private readonly attempt: number,
    /** The stream version we last saw; any other writer moving it makes us check the turn is still ours. */
    private knownVersion: number,
    /**
     * The tenant's word list over the streamed text. It holds back at most the longest listed word
     * (plus separators) until the following text shows it is not part of a match, so a listed word is
     * masked before any of it is released, and a reply that must be blocked stops before the blocked
     * word leaves: the customer has seen only clean text, and the completion replaces it.
     */
    private readonly screen: FilterStream,
  ) {
    const { chunkFlushMs, chunkMaxChars } = handler.config;
    this.chunker = new ReplyChunker(chunkFlushMs, chunkMaxChars, () => performance.now());
    this.turnSignal = AbortSignal.any([this.deadline.signal, this.superseded.signal, this.blocked.signal]);
  }

  /** The flag to record with the outcome when the word list matched anything in the reply. */
  flags(): PendingEvent[] {
    const verdict = verdictOf(this.matches);
    if (verdict === null) return [];
    return [contentFlagged({ direction: 'outbound', turnId: this.request.data.turnId }, verdict)];
  }

  /** The outcome to append, or null when the turn is no longer ours. */
  async run(): Promise<ReplyOutcome | null> {
    const { tenantId, conversationId } = this.request;
    const backends = this.handler.backends.route(tenantId, conversationId);
    this.handler.metrics.routed(
      this.handler.backends.isCanary(tenantId, conversationId) ? 'canary' : 'stable',
    );
    try {
      for (const [index, backend] of backends.entries()) {
        const next = backends[index + 1];
        try {
          const finished = await this.call(backend, index > 0);
          return await this.complete(backend, finished);
        } catch (error) {
          const reason = switchReason(error);
          if (reason === 'circuit-open') this.handler.metrics.callFailed(backend, reason);
          if (!next || reason === null || this.turnSignal.aborted) throw error;
          this.switchTo(backend, next, reason, error);
        }
      }
      throw new Error('no model backend is configured');
    } catch (error) {
      if (this.screen.blocked) return await this.replace();
      return await this.fail(error);
    } finally {
      clearTimeout(this.deadlineTimer);
    }
  }

  /** One backend's turn at the reply: a slot of its own, retries before the first token, its breaker. */
  private call(backend: ModelBackend, switched: boolean): Promise<Finished> {
    return backend.dispatcher.run(
      this.request.tenantId,
      () => {
        this.startDeadline();
        return backend.retry.execute(
          () => backend.breaker.execute(() => this.stream(backend)),
          this.turnSignal,
        );
      },
      // The first wait for a slot has no deadline (the queue is the back-pressure); a switch does.
      switched ? this.turnSignal : undefined,
    );
  }

  private async stream(backend: ModelBackend): Promise<Finished> {
    const { prompt, maxTokens } = this.request.data;
    const { firstTokenTimeoutMs, stallTimeoutMs } = this.handler.config;
    const start = this.delivered.length;
    const trimmer = start > 0 ? new RepeatTrimmer(this.delivered) : null;
    const messages = start > 0 ? continuationPrompt(prompt, this.delivered) : prompt;
    const call = new AbortController();
    const signal = AbortSignal.any([this.turnSignal, call.signal]);
    let timer = setTimeout(() => call.abort(new CallDeadline('first-token-timeout')), firstTokenTimeoutMs);
    let tokens = 0;
    const calledAt = performance.now();
    let firstTokenAt: number | null = null;
    try {
      const budget = Math.max(16, maxTokens - this.deltas);
      for await (const part of backend.client.streamChat(messages, budget, signal)) {
        if (part.kind === 'delta') {
          clearTimeout(timer);
          timer = setTimeout(() => call.abort(new CallDeadline('stalled')), stallTimeoutMs);
          tokens++;
          firstTokenAt ??= performance.now();
          this.deliver(trimmer ? trimmer.push(part.text) : part.text);
          continue;
        }
        clearTimeout(timer);
        if (trimmer) this.deliver(trimmer.end());
        this.closePart(backend, start, true);
        this.deltas += tokens;
        this.handler.metrics.callFinished(backend, {
          firstTokenMs: firstTokenAt === null ? null : firstTokenAt - calledAt,
          streamMs: performance.now() - calledAt,
          promptTokens: part.promptTokens ?? 0,
          completionTokens: Math.max(part.completionTokens ?? 0, tokens),
        });
        return part;
      }
      throw new ModelCallError('truncated', 'the model stream ended without a finish');
    } catch (error) {
      clearTimeout(timer);
      this.deltas += tokens;
      this.closePart(backend, start, false);
      const reason = this.turnSignal.aborted ? null : faultReason(error, call.signal);
      if (reason === null) throw error;
      this.handler.metrics.callFailed(backend, reason);
      throw new BackendFault(reason, this.delivered.length === start, error);
    }
  }

  private deliver(text: string): void {
    if (text.length === 0) return;
    this.firstTokenMs ??= performance.now() - (this.startedAt ?? performance.now());
    this.delivered += text;
    this.release(this.screen.write(text));
  }

  /** Passes what the word list released on to the chunker; a block stops the model at once. */
  private release({ text, matches }: { text: string; matches: readonly FilterMatch[] }): void {
    this.matches.push(...matches);
    if (this.screen.blocked) {
      this.blocked.abort(new ReplyBlocked('the reply matched a blocked word'));
      return;
    }
    this.shown += text;
    const chunk = this.chunker.push(text);
    if (chunk !== null)
      this.emit(replyChunk(this.request.data.turnId, this.attempt, this.chunkIndex++, chunk));
  }

  /** Records what `backend` wrote since `start`; an empty stretch is only kept as a reply's sole part. */
  private closePart(backend: ModelBackend, start: number, finished: boolean): void {
    const end = this.delivered.length;
    if (end > start || (finished && this.parts.length === 0)) {
      this.parts.push({ backend: backend.name, model: backend.client.model, start, end });
    }
  }

  private switchTo(from: ModelBackend, to: ModelBackend, reason: BackendSwitchReason, error: unknown): void {
    const { turnId } = this.request.data;
    const rest = this.chunker.drain();
    if (rest !== null) this.emit(replyChunk(turnId, this.attempt, this.chunkIndex++, rest));
    const message = errorMessage(error);
    this.handler.metrics.switched(from, to, reason);
    this.handler.warn(
      { turnId, attempt: this.attempt, from: from.name, to: to.name, reason, message },
      'reply switched backend',
    );
    this.emit(
      replyBackendSwitched(
        {
          turnId,
          attempt: this.attempt,
          from: { backend: from.name, model: from.client.model },
          to: { backend: to.name, model: to.client.model },
          reason,
          deliveredChars: this.delivered.length,
          message,
        },
        this.switches++,
      ),
    );
  }

  private async complete(backend: ModelBackend, finished: Finished): Promise<ReplyOutcome | null> {
    // Model time ends with the stream, not with our appends, which ran behind it.
    const totalMs = performance.now() - (this.startedAt ?? performance.now());
    this.release(this.screen.end());
    if (this.screen.blocked) return this.replace();
    const rest = this.chunker.drain();
    if (rest !== null) this.emit(replyChunk(this.request.data.turnId, this.attempt, this.chunkIndex++, rest));
    await this.appends;
    if (this.appendFailure !== null) throw asError(this.appendFailure);
    if (this.superseded.signal.aborted) return null;
    this.handler.metrics.observeReply('total', totalMs);
    if (this.firstTokenMs !== null) this.handler.metrics.observeReply('first_token', this.firstTokenMs);
    return replyCompleted({
      turnId: this.request.data.turnId,
      attempt: this.attempt,
      text: this.shown,
      model: backend.client.model,
      finishReason: finished.finishReason,
      usage: {
        promptTokens: finished.promptTokens ?? 0,
        completionTokens: Math.max(finished.completionTokens ?? 0, this.deltas),
      },
      timings: { firstTokenMs: round(this.firstTokenMs), totalMs: round(totalMs) ?? 0 },
      parts: partsOver(this.parts, this.shown.length),
    });
  }

  /**
   * The completion of a reply the word list blocked: the replacement text instead of the reply (the
   * chunks released before the block were clean; the completion's text is the one a frontend keeps).
   */
  private async replace(): Promise<ReplyOutcome | null> {
    const totalMs = performance.now() - (this.startedAt ?? performance.now());
    await this.appends.catch(() => undefined);
    if (this.appendFailure !== null) throw asError(this.appendFailure);
    if (this.superseded.signal.aborted) return null;
    const verdict = verdictOf(this.matches);
    const text = verdict?.action === 'handoff' ? REPLACED_REPLY.handoff : REPLACED_REPLY.block;
    this.handler.warn(
      { turnId: this.request.data.turnId, attempt: this.attempt, categories: verdict?.categories },
      'reply replaced by the content filter',
    );
    return replyCompleted({
      turnId: this.request.data.turnId,
      attempt: this.attempt,
      text,
      model: this.parts.at(-1)?.model ?? FILTER_PART.model,
      finishReason: 'content_filter',
      usage: { promptTokens: 0, completionTokens: this.deltas },
      timings: { firstTokenMs: round(this.firstTokenMs), totalMs: round(totalMs) ?? 0 },
      parts: [{ ...FILTER_PART, start: 0, end: text.length }],
    });
  }

  private async fail(error: unknown): Promise<ReplyOutcome | null> {
    await this.appends.catch(() => undefined);
    if (this.appendFailure !== null) throw asError(this.appendFailure);
    // A full model queue is back-pressure, not the turn's failure: Kafka delivers the request again later.
    if (error instanceof AppError) throw error;
    if (this.superseded.signal.aborted) return null;
    const { turnId } = this.request.data;
    const reason = switchReason(error);
    const timedOut = this.deadline.signal.aborted || reason === 'first-token-timeout' || reason === 'stalled';
    const connectionFailed = reason === 'connection-error' || reason === 'circuit-open';
    this.handler.warn({ err: error, turnId, attempt: this.attempt, timedOut }, 'model call failed');
    return replyFailed({
      turnId,
      attempt: this.attempt,
      code: failureCode({ timedOut, connectionFailed }),
      message: errorMessage(error),
    });
  }

  private startDeadline(): void {
    if (this.startedAt !== null) return;
    this.startedAt = performance.now();
    this.deadlineTimer = setTimeout(
      () => this.deadline.abort(new Error('the reply took longer than its deadline')),
      this.handler.config.timeoutMs,
    );
  }

  /** Queues an append behind the previous ones; the model stream keeps flowing meanwhile. */
  private emit(event: PendingEvent): void {
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

/** Why a backend call failed, when that is the backend's fault; null for anything else. */
function faultReason(error: unknown, call: AbortSignal): BackendFault['reason'] | null {
  if (call.aborted && call.reason instanceof CallDeadline) return call.reason.reason;
  if (error instanceof ModelCallError) {
    switch (error.failure) {
      case 'connection':
        return 'connection-error';
      case 'server':
        return 'server-error';
      case 'truncated':
        return 'stream-truncated';
      case 'rejected':
        return null;
      default: {
        const unexpected: never = error.failure;
        throw new Error(`unknown model call failure ${String(unexpected)}`);
      }
    }
  }
  return isConnectionError(error) ? 'connection-error' : null;
}

/** The reason to move the turn to the next backend, or null when it should not move. */
function switchReason(error: unknown): BackendSwitchReason | null {
  if (error instanceof BackendFault) return error.reason;
  if (error instanceof BrokenCircuitError) return 'circuit-open';
  return null;
}

function errorMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * The parts over the released text. Masking keeps lengths except where a masked word held an astral
 * character (one `*` per code point), so offsets past `length` are clamped and the last part ends there.
 */
function partsOver(parts: readonly ReplyPart[], length: number): ReplyPart[] {
  return parts.map((part, index) => ({
    ...part,
    start: Math.min(part.start, length),
    end: index === parts.length - 1 ? length : Math.min(part.end, length),
  }));
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
