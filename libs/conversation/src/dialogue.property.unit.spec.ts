import fc from 'fast-check';
import type { ConversationEvent } from '@contracts';
import { fixtureId } from './conversation-stream.fixture';
import { decide } from './conversation.decider';
import {
  contextOf,
  evolve,
  fold,
  initialState,
  statusOf,
  type ConversationState,
} from './conversation.state';
import { Dialogue } from './dialogue.fixture';
import { decideTimerFired, inactivityTimer, knowledgeWaitTimer } from './timers';

/** What can happen to a conversation from outside; the session's reactions follow each. */
type Action =
  | { kind: 'say'; text: string }
  | { kind: 'classify'; label: string | null }
  | { kind: 'extract'; value: string | null }
  | { kind: 'knowledge' }
  | { kind: 'knowledge-timer' }
  | { kind: 'inactivity-timer' }
  | { kind: 'agent'; text: string }
  | { kind: 'return' }
  | { kind: 'reply' }
  | { kind: 'close' };

const TEXTS = [
  '你好',
  `我要退款，订单号E20261130123456`,
  '转人工',
  '买错尺码了',
  'where is my parcel?',
  '???',
  '139 1726 4085',
];
const LABELS = ['greeting', 'order_status', 'refund', 'complaint', 'human_agent', 'goodbye', 'other', null];

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TEXTS).map((text) => ({ kind: 'say' as const, text })) },
  { weight: 4, arbitrary: fc.constantFrom(...LABELS).map((label) => ({ kind: 'classify' as const, label })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('质量问题', null).map((value) => ({ kind: 'extract' as const, value })),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'knowledge' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'knowledge-timer' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'inactivity-timer' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'agent' as const, text: '您好，我是客服' }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'return' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'reply' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);

function play(given: Dialogue, step: Action, index: number): void {
  const state = given.state;
  const context = contextOf(state);
  const status = statusOf(state);
  const live = status !== 'closed' && status !== 'archived';
  const firstOpen = (kind: string) =>
    Object.entries(context.openTasks).find(([, task]) => task.kind === kind && task.messageId !== null);
  switch (step.kind) {
    case 'say':
      if (live) given.say(step.text);
      return;
    case 'classify': {
      const open = firstOpen('classify-intent');
      if (!open) return;
      const messageId = open[1].messageId ?? '';
      if (step.label === null) given.classifyFailed(messageId);
      else given.classify(messageId, step.label);
      return;
    }
    case 'extract': {
      const open = firstOpen('extract-slots');
      if (open) given.extracted(open[1].messageId ?? '', { reason: step.value });
      return;
    }
    case 'knowledge': {
      const messageId = context.pendingMessageIds[0];
      if (messageId) given.knowledge(messageId);
      return;
    }
    case 'knowledge-timer': {
      const messageId = context.pendingMessageIds.at(-1);
      if (messageId)
        decideTimerFired(state, knowledgeWaitTimer(messageId, 3000)).forEach((e) => given.append(e));
      return;
    }
    case 'inactivity-timer': {
      const timer = inactivityTimer(given.stream.conversationId, context.lastCustomerActivitySequence, 300);
      decideTimerFired(state, timer).forEach((event) => given.append(event));
      return;
    }
    case 'agent':
      if (status === 'handed-off') {
        const command = {
          type: 'send-agent-message' as const,
          eventId: fixtureId('d', 1000 + index),
          messageId: fixtureId('f', 1000 + index),
          agentId: 'wang',
          text: step.text,
        };
        decide(command, state).forEach((event) => given.append(event));
      }
      return;
    case 'return':
      if (status === 'handed-off') {
        decide(
          { type: 'return-to-bot', eventId: fixtureId('d', 2000 + index), agentId: 'wang' },
          state,
        ).forEach((event) => given.append(event));
      }
      return;
    case 'reply': {
      const turn = context.activeTurn;
      if (turn) {
        given.stream.replyCompleted(turn.turnId, `reply ${index}`);
        given.react();
      }
      return;
    }
    case 'close':
      if (live) {
        decide(
          { type: 'close-conversation', eventId: fixtureId('d', 3000 + index), reason: 'resolved' },
          state,
        ).forEach((event) => given.append(event));
      }
      return;
    default: {
      const unexpected: never = step;
      throw new Error(`unknown action ${JSON.stringify(unexpected)}`);
    }
  }
}

const observable = (state: ConversationState) => ({
  value: state.snapshot.value,
  status: state.snapshot.status,
  context: state.snapshot.context.conversation,
  version: state.version,
  lastActivityAt: state.lastActivityAt,
});

describe('folding any prefix of a conversation', () => {
  it('gives exactly the state that was live at that event, for generated conversations', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => {
        const given = new Dialogue().start();
        actions.forEach((step, index) => play(given, step, index));
        // The live state, event by event, as a long-running process holds it; and each event as a reader
        // gets it from the store or a topic (JSON).
        const liveAt: ReturnType<typeof observable>[] = [];
        let live = initialState();
        for (const event of given.events) {
          live = evolve(live, event);
          liveAt.push(JSON.parse(JSON.stringify(observable(live))) as ReturnType<typeof observable>);
        }
        const stored = JSON.parse(JSON.stringify(given.events)) as ConversationEvent[];
        for (let length = 1; length <= stored.length; length++) {
          expect(observable(fold(stored.slice(0, length)))).toEqual(liveAt[length - 1]);
        }
      }),
      { numRuns: 150 },
    );
  });
});
