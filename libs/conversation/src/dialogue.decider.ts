import type { IntentDefinition, PendingEvent, TenantSettings } from '@contracts';
import { decideReply, type ReplyPolicy } from './conversation.decider';
import type { ConversationContext, MessageUnderstanding } from './conversation.machine';
import { contextOf, evolve, statusOf, type ConversationState } from './conversation.state';
import { DerivedIds } from './ids';
import { findSlotValue, validateSlotValue } from './slot-patterns';
import { restatesRequest } from './slot-restatement';

/**
 * What the bot does next, decided from the stored state only: ask for model work, settle the intent,
 * fill slots, ask for what is missing, hand off, or request a reply with the knowledge found. Pure; the
 * settings come from the conversation's recorded configVersion, so a replay decides exactly the same.
 */
export interface TurnPolicy extends ReplyPolicy {
  intents: readonly IntentDefinition[];
  templates: NonNullable<TenantSettings['templates']>;
  handoffAfterFailedTurns: number;
}

/** Past this many customer turns not covered by a summary, older ones are summarised. */
export const SUMMARIZE_AFTER_TURNS = 5;
/** The customer turns that stay verbatim in the prompt when older ones are summarised. */
export const KEEP_RECENT_TURNS = 3;
const MAX_STEPS = 12;

/**
 * Every event the bot's next moves produce from `state`, in order. Each step looks at the state the
 * previous steps' events lead to, so one call settles as much as the stored facts allow (e.g. intent,
 * slots and the question for a missing slot in one append) and then waits for the next fact.
 */
export function decideNext(state: ConversationState, policy: TurnPolicy): PendingEvent[] {
  const decided: PendingEvent[] = [];
  let draft = state;
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = nextStep(draft, policy);
    if (next.length === 0) break;
    decided.push(...next);
    draft = applyDraft(draft, next);
  }
  return decided;
}

/**
 * The bot's next moves when facts obtained while deciding join what `decideNext` returned (an intent
 * classified in the same step that asked for it): `facts` in order, then what they lead to.
 */
export function decideAfter(
  state: ConversationState,
  facts: readonly PendingEvent[],
  policy: TurnPolicy,
): PendingEvent[] {
  return [...facts, ...decideNext(applyDraft(state, [...facts]), policy)];
}

function nextStep(state: ConversationState, policy: TurnPolicy): PendingEvent[] {
  const status = statusOf(state);
  if (status !== 'answering' && status !== 'collecting') return [];
  const summary = summarizeIfDue(state);
  if (summary.length > 0) return summary;
  if (status !== 'answering') return [];
  const context = contextOf(state);
  const pending = context.pendingMessageIds
    .map((id) => context.understanding[id])
    .filter((entry): entry is MessageUnderstanding => entry !== undefined);

  const unasked = pending.filter((entry) => entry.classifyTaskId === null);
  if (unasked.length > 0) return unasked.flatMap((entry) => askUnderstanding(context, entry, policy));

  const unresolved = pending.find((entry) => entry.resolved === null);
  if (unresolved) return unresolved.classification === null ? [] : resolve(state, unresolved, policy);

  if (pending.some((entry) => entry.extractTaskIds.some((taskId) => taskId in context.openTasks))) return [];

  const extracted = pending.flatMap((entry) => applyExtracted(context, entry, policy));
  if (extracted.length > 0) return extracted;

  return act(state, pending, policy);
}

/** A new message: classify it, and when the bot asked for a slot, extract it in the same hop. */
function askUnderstanding(
  context: ConversationContext,
  entry: MessageUnderstanding,
  policy: TurnPolicy,
): PendingEvent[] {
  const taskId = DerivedIds.classifyTask(entry.messageId);
  const events: PendingEvent[] = [
    modelTask(taskId, entry.messageId, context.configVersion, {
      kind: 'classify-intent',
      text: entry.text,
    }),
  ];
  const active = intentNamed(policy, context.intent?.name);
  if (context.awaitingSlot !== null && active) {
    events.push(...extractFor(context, entry, active));
  }
  return events;
}

/** Asks the model for the missing free-text slots of `intent` the patterns do not find in the message. */
function extractFor(
  context: ConversationContext,
  entry: MessageUnderstanding,
  intent: IntentDefinition,
  filledNow: ReadonlySet<string> = new Set(),
): PendingEvent[] {
  const wanted = intent.slots.filter(
    (slot) =>
      slot.type === 'text' &&
      context.slots[slot.name] === undefined &&
      !filledNow.has(slot.name) &&
      findSlotValue(slot.type, entry.text, entry.occurredAt) === null,
  );
  if (wanted.length === 0) return [];
  const taskId = DerivedIds.extractTask(
    entry.messageId,
    intent.name,
    wanted.map((slot) => slot.name),
  );
  if (entry.extractTaskIds.includes(taskId)) return [];
  return [
    modelTask(taskId, entry.messageId, context.configVersion, {
      kind: 'extract-slots',
      text: entry.text,
      intent: intent.name,
      slots: wanted.map((slot) => ({
        name: slot.name,
        type: slot.type,
        ...(slot.description === undefined ? {} : { description: slot.description }),
      })),
      referenceTime: entry.occurredAt,
      locale: context.locale,
    }),
  ];
}

/** The classifier answered: settle the intent, fill what the patterns find, hand off if the intent says so. */
function resolve(state: ConversationState, entry: MessageUnderstanding, policy: TurnPolicy): PendingEvent[] {
  const context = contextOf(state);
  const classification = entry.classification;
  if (classification === null) return [];
  const label = classification.status === 'done' ? classification.label : null;
  const recognised = intentNamed(policy, label ?? undefined);
  const active = intentNamed(policy, context.intent?.name);
  // The customer is answering the bot's question: the request stays, unless they ask for a person,
  // complain or leave.
  const answersQuestion =
    context.awaitingSlot !== null &&
    active !== undefined &&
    !(recognised?.handoff ?? false) &&
    recognised?.name !== 'goodbye';
  const intent = answersQuestion ? active : recognised;
  const failed = intent === undefined || intent.name === 'other';
  const events: PendingEvent[] = [
    {
      eventId: DerivedIds.intentResolved(entry.messageId),
      type: 'conversation.intent-resolved.v1',
      data: {
        messageId: entry.messageId,
        intent: intent?.name ?? 'other',
        label,
        confidence: classification.status === 'done' ? classification.confidence : 0,
        path: classification.status === 'done' ? classification.path : 'fallback',
        failed,
      },
    },
  ];
  if (intent === undefined) return events;
  if (intent.handoff) {
    return [
      ...events,
      ...handOff(state, policy, intent.name === 'complaint' ? 'complaint' : 'customer-request', intent.name),
    ];
  }
  for (const slot of intent.slots) {
    const value = findSlotValue(slot.type, entry.text, entry.occurredAt);
    if (value === null) continue;
    const current = context.slots[slot.name];
    if (current?.value === value) continue;
    const base = {
      messageId: entry.messageId,
      intent: intent.name,
      slot: slot.name,
      value,
      source: 'pattern' as const,
    };
    events.push(
      current === undefined
        ? {
            eventId: DerivedIds.slotEvent(entry.messageId, slot.name),
            type: 'conversation.slot-filled.v1',
            data: base,
          }
        : {
            eventId: DerivedIds.slotEvent(entry.messageId, slot.name),
            type: 'conversation.slot-corrected.v1',
            data: { ...base, previousValue: current.value },
          },
    );
  }
  const filledNow = new Set(
    events.flatMap((event) => (event.type === 'conversation.slot-filled.v1' ? [event.data.slot] : [])),
  );
  return [...events, ...extractFor(context, entry, intent, filledNow)];
}

/** The model's extracted values, validated: filled when new and valid, refused when invalid. */
function applyExtracted(
  context: ConversationContext,
  entry: MessageUnderstanding,
  policy: TurnPolicy,
): PendingEvent[] {
  const intent = intentNamed(policy, entry.resolved?.intent);
  if (!intent) return [];
  const events: PendingEvent[] = [];
  for (const slot of intent.slots) {
    const offered = entry.extracted[slot.name];
    // The model fills gaps; it never overrides what the customer's own words gave (patterns do that).
    if (offered === undefined || offered === null || context.slots[slot.name] !== undefined) continue;
    if (entry.rejectedSlots.includes(slot.name)) continue;
    // A small model may hand back another slot's value (the order number as the refund reason), or
    // the request itself as its reason ("退款", "订单号E2026…，订单需要退款"): free text within one of the
    // intent's examples, or holding another slot's value, is refused, and the bot asks.
    const otherValues = Object.entries(context.slots)
      .filter(([name]) => name !== slot.name)
      .map(([, filled]) => String(filled.value));
    const heldElsewhere = otherValues.includes(String(offered).trim());
    const validated = heldElsewhere
      ? ({ ok: false, reason: 'invalid-value' } as const)
      : validateSlotValue(slot.type, offered, entry.occurredAt);
    const checked =
      validated.ok &&
      slot.type === 'text' &&
      restatesRequest(String(validated.value), { examples: intent.examples, otherValues })
        ? ({ ok: false, reason: 'invalid-value' } as const)
        : validated;
    const eventId = DerivedIds.slotEvent(entry.messageId, slot.name);
    const base = {
      messageId: entry.messageId,
      intent: intent.name,
      slot: slot.name,
      source: 'model' as const,
    };
    events.push(
      checked.ok
        ? { eventId, type: 'conversation.slot-filled.v1', data: { ...base, value: checked.value } }
        : {
            eventId,
            type: 'conversation.slot-rejected.v1',
            data: {
              ...base,
              value: typeof offered === 'number' ? offered : offered.slice(0, 1_000),
              reason: checked.reason,
            },
          },
    );
  }
  return events;
}

/** Everything is understood: hand off, ask for the first missing slot, or ask for a reply. */
function act(state: ConversationState, pending: MessageUnderstanding[], policy: TurnPolicy): PendingEvent[] {
  const context = contextOf(state);
  if (context.activeTurn !== null || pending.length === 0) return [];
  if (context.failedTurns >= policy.handoffAfterFailedTurns) {
    return handOff(state, policy, 'failed-turns', context.intent?.name ?? null);
  }
  const intent = intentNamed(policy, context.intent?.name);
  const missing = intent?.slots.find((slot) => slot.required && context.slots[slot.name] === undefined);
  if (missing) {
    return [botMessage(state, `ask_${missing.name}`, localized(missing.ask, context.locale), missing.name)];
  }
  const last = pending[pending.length - 1];
  if (last === undefined || (last.knowledge === null && !last.knowledgeWaitOver)) return [];
  return decideReply(state, policy, { knowledge: last.knowledge ?? [] });
}

function handOff(
  state: ConversationState,
  policy: TurnPolicy,
  reason: 'customer-request' | 'complaint' | 'failed-turns',
  intent: string | null,
): PendingEvent[] {
  const context = contextOf(state);
  const notice = policy.templates.handoff_notice;
  const inReplyTo = [...context.pendingMessageIds];
  return [
    ...(notice ? [botMessage(state, 'handoff_notice', localized(notice, context.locale), null)] : []),
    {
      eventId: DerivedIds.handedOff(state.conversationId ?? '', inReplyTo),
      type: 'conversation.handed-off.v1',
      data: { reason, intent, inReplyTo },
    },
  ];
}

function botMessage(
  state: ConversationState,
  template: string,
  text: string,
  slot: string | null,
): PendingEvent {
  const inReplyTo = [...contextOf(state).pendingMessageIds];
  const messageId = DerivedIds.botMessage(state.conversationId ?? '', inReplyTo, template);
  return {
    eventId: DerivedIds.botMessageSent(messageId),
    type: 'conversation.bot-message-sent.v1',
    data: { messageId, inReplyTo, template, slot, text },
  };
}

/** The conversation's language picks the text; English, then Chinese, when that one is missing. */
export function localized(
  text: { zh?: string | undefined; en?: string | undefined },
  locale: string | null,
): string {
  const chinese = locale?.toLowerCase().startsWith('zh') ?? false;
  return (chinese ? (text.zh ?? text.en) : (text.en ?? text.zh)) ?? '…';
}

/** When enough turns are not covered by the summary, fold the older ones into a new one. */
function summarizeIfDue(state: ConversationState): PendingEvent[] {
  const context = contextOf(state);
  const covered = context.summary?.coversUpToSequence ?? 0;
  if (Object.values(context.openTasks).some((task) => task.kind === 'summarize')) return [];
  const uncovered = context.transcript.filter((entry) => entry.sequence > covered);
  const customerTurns = uncovered.filter((entry) => entry.role === 'customer');
  if (customerTurns.length <= SUMMARIZE_AFTER_TURNS) return [];
  const firstKept = customerTurns[customerTurns.length - KEEP_RECENT_TURNS];
  if (firstKept === undefined) return [];
  const older = uncovered.filter((entry) => entry.sequence < firstKept.sequence);
  const last = older[older.length - 1];
  if (last === undefined) return [];
  const taskId = DerivedIds.summarizeTask(state.conversationId ?? '', last.sequence);
  return [
    modelTask(taskId, null, context.configVersion, {
      kind: 'summarize',
      previousSummary: context.summary?.text ?? null,
      transcript: older.map((entry) => ({ role: entry.role, text: entry.text })),
      coversUpToSequence: last.sequence,
    }),
  ];
}

type TaskInput = Extract<PendingEvent, { type: 'conversation.model-task-requested.v1' }>['data']['task'];

function modelTask(
  taskId: string,
  messageId: string | null,
  configVersion: number,
  task: TaskInput,
): PendingEvent {
  return {
    eventId: DerivedIds.modelTaskRequested(taskId),
    type: 'conversation.model-task-requested.v1',
    data: { taskId, messageId, configVersion, task },
  };
}

function intentNamed(policy: TurnPolicy, name: string | undefined): IntentDefinition | undefined {
  return name === undefined ? undefined : policy.intents.find((intent) => intent.name === name);
}

/**
 * Folds events this decider is about to return, as the store will number them (the runner appends at
 * the version the state was loaded at), so the next step decides on what they lead to.
 */
function applyDraft(state: ConversationState, pending: PendingEvent[]): ConversationState {
  return pending.reduce(
    (draft, event, index) =>
      evolve(draft, {
        ...event,
        tenantId: state.tenantId ?? '',
        conversationId: state.conversationId ?? '',
        sequence: state.version + index + 1,
        occurredAt: state.lastActivityAt ?? '1970-01-01T00:00:00.000Z',
        causationId: null,
        correlationId: event.eventId,
      }),
    state,
  );
}
