import { Inject, Injectable } from '@nestjs/common';
import type { ConversationEvent, PendingEvent } from '@contracts';
import {
  answerFromCache,
  answerOfTurn,
  cacheableTurn,
  contextOf,
  decideAfter,
  decideNext,
  inactivityTimer,
  knowledgeWaitTimer,
  replyPolicyFor,
  type ConversationState,
  type ReplyPolicy,
  type TurnPolicy,
} from '@libs/conversation';
import { ConversationStreams, TenantSettingsStreams } from '@libs/event-store';
import { effectiveSettings } from '@libs/tenant-settings';
import { AnswerCacheMetrics, AnswerCacheRepository } from '../answer-cache';
import { TimerRepository, type ScheduledTimer } from '../timers';
import type { AdvanceConversationCommand } from './advance-conversation.command';
import { LocalClassifier } from './local-classifier';

export const REPLY_POLICY = Symbol('REPLY_POLICY');
export const KNOWLEDGE_WAIT_MS = Symbol('KNOWLEDGE_WAIT_MS');

/** The turn policy of a conversation's settings version, with what sessions needs beside the decider. */
type Policy = TurnPolicy & { inactivityTimeoutSeconds: number; fastPathMinConfidence: number };

@Injectable()
export class AdvanceConversationHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams,
    @Inject(TimerRepository) private readonly timers: TimerRepository,
    @Inject(REPLY_POLICY) private readonly defaults: ReplyPolicy,
    @Inject(KNOWLEDGE_WAIT_MS) private readonly knowledgeWaitMs: number,
    @Inject(AnswerCacheRepository) private readonly answers: AnswerCacheRepository,
    @Inject(AnswerCacheMetrics) private readonly cacheMetrics: AnswerCacheMetrics,
    @Inject(LocalClassifier) private readonly classifier: LocalClassifier,
  ) {}

  async execute({ trigger }: AdvanceConversationCommand): Promise<void> {
    const ref = { tenantId: trigger.tenantId, conversationId: trigger.conversationId };
    const causation = { causationId: trigger.eventId, correlationId: trigger.correlationId };
    // The stream, not the Kafka message, is the truth: decide on the stored state, which may be ahead
    // of the trigger (the trigger only spares a read when it is the next event after the state in
    // memory). A redelivered trigger derives the same ids and appends nothing.
    await this.streams.execute(
      ref,
      causation,
      async (state) => {
        // The settings version the conversation started under, never the tenant's latest.
        const { configVersion } = contextOf(state);
        const policy = await this.policyAt(trigger.tenantId, configVersion);
        if (trigger.type === 'conversation.started.v2')
          this.classifier.prepare(trigger.tenantId, configVersion, policy.intents);
        // The timers' rows and the decision (its embeddings call, when it classifies) at once; both
        // are done before anything is appended.
        const [, decided] = await Promise.all([
          this.scheduleTimers(trigger, policy.inactivityTimeoutSeconds),
          this.decide(trigger.tenantId, state, policy),
        ]);
        return this.withCachedAnswer(trigger.tenantId, state, decided, policy);
      },
      trigger,
    );
    // A whole reply (not one cut at max tokens) can answer the same question again.
    if (trigger.type === 'conversation.reply-completed.v2' && trigger.data.finishReason === 'stop') {
      await this.answers.complete(trigger.tenantId, trigger.data.turnId);
    }
  }

  /**
   * The next moves; a message the bot asks to classify is classified here first when the embeddings
   * are confident (see LocalClassifier), and the moves go on from its intent in the same append.
   */
  private async decide(tenantId: string, state: ConversationState, policy: Policy): Promise<PendingEvent[]> {
    const decided = decideNext(state, policy);
    const settled = await this.classifier.settle(
      tenantId,
      decided,
      policy.intents,
      policy.fastPathMinConfidence,
    );
    return settled.length === 0 ? decided : decideAfter(state, [...decided, ...settled], policy);
  }

  /**
   * A pure FAQ turn is answered from the tenant's cache when the same question was answered before
   * under the same system message (instructions and excerpts) and knowledge base: the hit and the
   * completion are appended with the reply request, so inference finds the turn answered and makes no
   * model call. Otherwise the turn claims the key, usable once its reply completes.
   */
  private async withCachedAnswer(
    tenantId: string,
    state: ConversationState,
    decided: PendingEvent[],
    policy: TurnPolicy,
  ): Promise<PendingEvent[]> {
    const turn = cacheableTurn(tenantId, state, decided, policy);
    if (turn === null) return decided;
    const entry = await this.answers.find(tenantId, turn.cacheKey);
    if (entry !== null) {
      const source = await this.streams.load({ tenantId, conversationId: entry.conversationId });
      const text = answerOfTurn(source, entry.turnId);
      if (text !== null) {
        const cached = { sourceConversationId: entry.conversationId, sourceTurnId: entry.turnId, text };
        this.cacheMetrics.looked('hit');
        return [...decided, ...answerFromCache(turn, cached)];
      }
      await this.answers.forget(tenantId, turn.cacheKey); // the source was erased
    }
    this.cacheMetrics.looked(entry === null ? 'miss' : 'source-erased');
    const conversationId = state.conversationId ?? '';
    await this.answers.claim(tenantId, turn.cacheKey, { conversationId, turnId: turn.turnId });
    return decided;
  }

  private async policyAt(tenantId: string, configVersion: number): Promise<Policy> {
    const settings = await this.settings.atVersion(tenantId, configVersion);
    const effective = effectiveSettings(settings);
    const policy: Policy = {
      ...replyPolicyFor(this.defaults, settings),
      intents: effective.intents,
      templates: effective.templates,
      handoffAfterFailedTurns: effective.handoffAfterFailedTurns,
      inactivityTimeoutSeconds: effective.inactivityTimeoutSeconds,
      fastPathMinConfidence: effective.fastPathMinConfidence,
    };
    return policy;
  }

  /**
   * Customer activity starts the silence the inactivity timer counts; a message starts the wait for
   * its knowledge. Rows first, so a crash after this still leaves the timers behind; scheduling is
   * idempotent (derived timer ids).
   */
  private async scheduleTimers(trigger: ConversationEvent, timeoutSeconds: number): Promise<void> {
    if (trigger.type !== 'conversation.started.v2' && trigger.type !== 'conversation.message-received.v1')
      return;
    const ref = { tenantId: trigger.tenantId, conversationId: trigger.conversationId };
    const at = Date.parse(trigger.occurredAt);
    const causation = { causationId: trigger.eventId, correlationId: trigger.correlationId };
    const timers: ScheduledTimer[] = [
      {
        ref,
        timer: inactivityTimer(trigger.conversationId, trigger.sequence, timeoutSeconds),
        dueAt: new Date(at + timeoutSeconds * 1000),
        ...causation,
      },
    ];
    if (trigger.type === 'conversation.message-received.v1') {
      timers.push({
        ref,
        timer: knowledgeWaitTimer(trigger.data.messageId, this.knowledgeWaitMs),
        dueAt: new Date(at + this.knowledgeWaitMs),
        ...causation,
      });
    }
    await this.timers.schedule(...timers);
  }
}
