import { createActor, initialTransition, type SnapshotFrom } from 'xstate';
import {
  AppError,
  type ConversationEvent,
  type ConversationStateAt,
  type ConversationView,
} from '@contracts';
import {
  conversationMachine,
  type ConversationContext,
  type ConversationStatus,
} from './conversation.machine';

/** The live state of one conversation: the machine snapshot plus where in the stream it stands. */
export interface ConversationState {
  snapshot: SnapshotFrom<typeof conversationMachine>;
  tenantId: string | null;
  conversationId: string | null;
  version: number;
  startedAt: string | null;
  lastActivityAt: string | null;
}

export function initialState(): ConversationState {
  const [snapshot] = initialTransition(conversationMachine);
  return {
    snapshot,
    tenantId: null,
    conversationId: null,
    version: 0,
    startedAt: null,
    lastActivityAt: null,
  };
}

type MachineScope = Parameters<typeof conversationMachine.transition>[2];
let scope: MachineScope | null = null;

/**
 * One inert actor scope for every transition. xstate's `transition()` builds a new actor (and its
 * initial snapshot) per call, which made a 200-event fold cost ~8 ms; the machine has no children,
 * delays or side effects (assign only), so one scope that executes nothing serves every fold.
 */
function machineScope(): MachineScope {
  if (scope === null) {
    const self = createActor(conversationMachine);
    scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: () => {},
    } as MachineScope;
  }
  return scope;
}

/** evolve(state, event) -> state. Pure: the same stream always folds to the same state. */
export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  if (event.sequence !== state.version + 1) {
    throw new AppError('stream-corrupted', `expected sequence ${state.version + 1}, got ${event.sequence}`, {
      conversationId: event.conversationId,
    });
  }
  const foreign =
    (state.conversationId !== null && state.conversationId !== event.conversationId) ||
    (state.tenantId !== null && state.tenantId !== event.tenantId);
  if (foreign) {
    throw new AppError('stream-corrupted', `event ${event.eventId} belongs to another stream or tenant`, {
      conversationId: event.conversationId,
    });
  }
  const snapshot = conversationMachine.transition(state.snapshot, event, machineScope());
  return {
    snapshot,
    tenantId: event.tenantId,
    conversationId: event.conversationId,
    version: event.sequence,
    startedAt: state.startedAt ?? event.occurredAt,
    lastActivityAt: event.occurredAt,
  };
}

export function fold(
  events: readonly ConversationEvent[],
  from: ConversationState = initialState(),
): ConversationState {
  return events.reduce(evolve, from);
}

/** The conversation kind for the generic stream runner (@libs/event-store StreamRunner). */
export const conversationStream = {
  kind: 'conversation' as const,
  initialState,
  evolve,
  /** After an erasure the customer's text reads as markers: a state folded before it must go. */
  refoldsAfter: (event: ConversationEvent) => event.type === 'conversation.erased.v1',
};

export function statusOf(state: ConversationState): ConversationStatus {
  return state.snapshot.value as ConversationStatus;
}

export function contextOf(state: ConversationState): ConversationContext {
  return state.snapshot.context.conversation;
}

/**
 * What `GET /v1/conversations/{id}` returns: plain JSON, derived only from the stream. The type is
 * inferred from `ConversationViewSchema` in contracts, the wire schema of clients and the OpenAPI
 * document, so `toView` must build exactly what they read (libs/client checks the reverse direction).
 */
export type { ConversationView };

export function toView(state: ConversationState): ConversationView {
  if (state.conversationId === null || state.tenantId === null || state.startedAt === null) {
    throw new AppError('conversation-not-found');
  }
  const context = contextOf(state);
  return {
    conversationId: state.conversationId,
    tenantId: state.tenantId,
    status: statusOf(state),
    version: state.version,
    startedAt: state.startedAt,
    lastActivityAt: state.lastActivityAt ?? state.startedAt,
    configVersion: context.configVersion,
    reference: context.reference,
    channel: context.channel,
    locale: context.locale,
    labels: context.labels,
    transcript: context.transcript,
    pendingMessageIds: context.pendingMessageIds,
    activeTurn: context.activeTurn,
    turnsCompleted: context.turnsCompleted,
    lastFailure: context.lastFailure,
    closedReason: context.closedReason,
    ...understandingOf(context),
  };
}

function understandingOf(context: ConversationContext) {
  return {
    intent: context.intent,
    slots: context.slots,
    awaitingSlot: context.awaitingSlot,
    summary: context.summary,
    handoff: context.handoff,
    failedTurns: context.failedTurns,
  };
}

/** What `GET /v1/conversations/{id}/state?at=` returns: the machine's state after the last event folded. */
export function toStateAt(state: ConversationState): ConversationStateAt {
  if (state.conversationId === null) throw new AppError('conversation-not-found');
  const context = contextOf(state);
  return {
    conversationId: state.conversationId,
    at: state.version,
    status: statusOf(state),
    configVersion: context.configVersion,
    reference: context.reference,
    pendingMessageIds: context.pendingMessageIds,
    closedReason: context.closedReason,
    ...understandingOf(context),
  };
}
