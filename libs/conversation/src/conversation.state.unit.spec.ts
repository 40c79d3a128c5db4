import { AppError, type ConversationEvent } from '@contracts';
import {
  ConversationStreamBuilder,
  CONVERSATION_ID,
  TENANT_ID,
  fixtureId,
} from './conversation-stream.fixture';
import {
  contextOf,
  evolve,
  fold,
  initialState,
  statusOf,
  toView,
  type ConversationState,
} from './conversation.state';

function statusesAlong(events: readonly ConversationEvent[]): string[] {
  const statuses: string[] = [];
  events.reduce((state, event) => {
    const next = evolve(state, event);
    statuses.push(statusOf(next));
    return next;
  }, initialState());
  return statuses;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('conversation state (machine folded through evolve)', () => {
  describe('lifecycle new -> greeting -> answering -> collecting -> closed', () => {
    it('given no events, then the conversation is new, at version 0, and has no view', () => {
      const state = initialState();

      expect(statusOf(state)).toBe('new');
      expect(state.version).toBe(0);
      expect(contextOf(state).transcript).toEqual([]);
      expect(catchError(() => toView(state))).toMatchObject({ code: 'conversation-not-found' });
    });

    it('given a started event, then it greets and records channel, locale, labels and where the stream stands', () => {
      const given = new ConversationStreamBuilder();
      const started = given.started({ channel: 'wechat', locale: 'zh-CN', labels: { queue: 'billing' } });

      const view = toView(fold(given.events));

      expect(view).toMatchObject({
        status: 'greeting',
        conversationId: CONVERSATION_ID,
        tenantId: TENANT_ID,
        version: 1,
        channel: 'wechat',
        locale: 'zh-CN',
        labels: { queue: 'billing' },
        startedAt: started.occurredAt,
        lastActivityAt: started.occurredAt,
        transcript: [],
        pendingMessageIds: [],
        activeTurn: null,
      });
    });

    it('when the customer writes, then it is answering with the message in the transcript and pending', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('你好，我的订单还没到');

      const state = fold(given.events);

      expect(statusOf(state)).toBe('answering');
      expect(contextOf(state).transcript).toEqual([
        { id: m1.data.messageId, role: 'customer', text: '你好，我的订单还没到', sequence: 2 },
      ]);
      expect(contextOf(state).pendingMessageIds).toEqual([m1.data.messageId]);
    });

    it('when a reply is requested, then the turn opens, its messages leave pending, and it stays answering', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const request = given.replyRequested([m1.data.messageId]);

      const state = fold(given.events);

      expect(statusOf(state)).toBe('answering');
      expect(contextOf(state).activeTurn).toEqual({
        turnId: request.data.turnId,
        inReplyTo: [m1.data.messageId],
        attempt: 0,
      });
      expect(contextOf(state).pendingMessageIds).toEqual([]);
    });

    it('when the reply completes, then it is collecting with the reply in the transcript', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const { data: turn } = given.replyRequested([m1.data.messageId]);
      given.replyCompleted(turn.turnId, 'Hi, how can I help?');

      const state = fold(given.events);

      expect(statusOf(state)).toBe('collecting');
      expect(contextOf(state)).toMatchObject({
        activeTurn: null,
        pendingMessageIds: [],
        turnsCompleted: 1,
        lastFailure: null,
      });
      expect(contextOf(state).transcript.map(({ role, text }) => [role, text])).toEqual([
        ['customer', 'hello'],
        ['assistant', 'Hi, how can I help?'],
      ]);
    });

    it('walks the whole path and ends closed with the reason, no turn and nothing pending', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const { data: t1 } = given.replyRequested([m1.data.messageId]);
      given.replyCompleted(t1.turnId, 'Hi!');
      given.message('where is my parcel?');
      given.closed('customer-left');

      expect(statusesAlong(given.events)).toEqual([
        'greeting',
        'answering',
        'answering',
        'collecting',
        'answering',
        'closed',
      ]);
      const state = fold(given.events);
      expect(contextOf(state)).toMatchObject({
        closedReason: 'customer-left',
        activeTurn: null,
        pendingMessageIds: [],
      });
      expect(state.snapshot.status).toBe('done');
    });

    it('keeps startedAt at the first event while lastActivityAt follows the latest', () => {
      const given = new ConversationStreamBuilder();
      const started = given.started();
      given.message('hello');
      const last = given.message('anyone?');

      const view = toView(fold(given.events));

      expect(started.occurredAt).not.toBe(last.occurredAt);
      expect(view.startedAt).toBe(started.occurredAt);
      expect(view.lastActivityAt).toBe(last.occurredAt);
    });

    it('given a greeting conversation, when it is closed, then it is closed without ever answering', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.closed('closed-by-frontend');

      expect(statusesAlong(given.events)).toEqual(['greeting', 'closed']);
    });
  });

  describe('messages during an open turn', () => {
    function turnOpenWithLateMessage() {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('my order is late');
      const { data: turn } = given.replyRequested([m1.data.messageId]);
      const m2 = given.message('order number 4711');
      return { given, turn, m1, m2 };
    }

    it('stay pending while the turn is open, and the open turn is untouched', () => {
      const { given, turn, m1, m2 } = turnOpenWithLateMessage();

      const state = fold(given.events);

      expect(statusOf(state)).toBe('answering');
      expect(contextOf(state).pendingMessageIds).toEqual([m2.data.messageId]);
      expect(contextOf(state).activeTurn).toEqual({
        turnId: turn.turnId,
        inReplyTo: [m1.data.messageId],
        attempt: 0,
      });
    });

    it('keep the conversation answering after the reply completes', () => {
      const { given, turn, m2 } = turnOpenWithLateMessage();
      given.replyCompleted(turn.turnId, 'Let me check.');

      const state = fold(given.events);

      expect(statusOf(state)).toBe('answering');
      expect(contextOf(state)).toMatchObject({
        activeTurn: null,
        pendingMessageIds: [m2.data.messageId],
        turnsCompleted: 1,
      });
    });

    it('keep the conversation answering after the reply fails, which is recorded', () => {
      const { given, turn, m2 } = turnOpenWithLateMessage();
      given.replyFailed(turn.turnId);

      const state = fold(given.events);

      expect(statusOf(state)).toBe('answering');
      expect(contextOf(state)).toMatchObject({
        activeTurn: null,
        pendingMessageIds: [m2.data.messageId],
        turnsCompleted: 0,
        lastFailure: { turnId: turn.turnId, code: 'model-timeout', message: 'the model took too long' },
      });
    });
  });

  describe('a failed turn with nothing pending', () => {
    it('goes to collecting with the failure recorded, and the next completed turn clears it', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const { data: t1 } = given.replyRequested([m1.data.messageId]);
      given.replyFailed(t1.turnId);
      const afterFailure = fold(given.events);
      const m2 = given.message('hello again');
      const { data: t2 } = given.replyRequested([m2.data.messageId]);
      given.replyCompleted(t2.turnId, 'Hi!');

      const afterSuccess = fold(given.events);

      expect(statusOf(afterFailure)).toBe('collecting');
      expect(contextOf(afterFailure).lastFailure).toMatchObject({ turnId: t1.turnId });
      expect(statusOf(afterSuccess)).toBe('collecting');
      expect(contextOf(afterSuccess).lastFailure).toBeNull();
    });
  });

  describe('outcomes for a turn that is not active are ignored', () => {
    function turnOpen() {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const { data: turn } = given.replyRequested([m1.data.messageId]);
      return { given, turn };
    }

    it.each(['completed', 'failed'] as const)(
      'reply-%s for another turn id changes nothing but the version',
      (outcome) => {
        const { given, turn } = turnOpen();
        const before = fold(given.events);
        const stranger = fixtureId('f', 99);
        if (outcome === 'completed') given.replyCompleted(stranger, 'not for this turn');
        else given.replyFailed(stranger);

        const after = fold(given.events);

        expect(after.version).toBe(before.version + 1);
        expect(statusOf(after)).toBe('answering');
        expect(contextOf(after)).toEqual(contextOf(before));
        expect(contextOf(after).activeTurn?.turnId).toBe(turn.turnId);
      },
    );

    it('a second completion of a finished turn (redelivery) adds no second reply', () => {
      const { given, turn } = turnOpen();
      given.replyCompleted(turn.turnId, 'Hi!');
      const once = fold(given.events);
      given.replyCompleted(turn.turnId, 'Hi!', 2);

      const twice = fold(given.events);

      expect(statusOf(twice)).toBe('collecting');
      expect(contextOf(twice)).toEqual(contextOf(once));
      expect(contextOf(twice).transcript.filter((entry) => entry.role === 'assistant')).toHaveLength(1);
    });
  });

  describe('chunks track the attempt', () => {
    it('raise the active turn attempt to the highest one seen, never lower it, and add nothing to the transcript', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const { data: turn } = given.replyRequested([m1.data.messageId]);
      const attempts: number[] = [];
      const record = () => attempts.push(contextOf(fold(given.events)).activeTurn?.attempt ?? -1);

      given.chunk(turn.turnId, 1, 0);
      record();
      given.chunk(turn.turnId, 1, 1);
      record();
      given.chunk(turn.turnId, 2, 0); // a redelivery regenerates
      record();
      given.chunk(turn.turnId, 1, 2); // a late chunk of the abandoned attempt
      record();

      expect(attempts).toEqual([1, 1, 2, 2]);
      const state = fold(given.events);
      expect(statusOf(state)).toBe('answering');
      expect(contextOf(state).transcript).toHaveLength(1);
    });

    it('ignore chunks of a turn that is not active', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      given.replyRequested([m1.data.messageId]);
      given.chunk(fixtureId('f', 7), 3, 0);

      expect(contextOf(fold(given.events)).activeTurn?.attempt).toBe(0);
    });
  });

  describe('closed is final', () => {
    it('ignores messages and replies folded after the close', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const m1 = given.message('hello');
      const { data: turn } = given.replyRequested([m1.data.messageId]);
      given.closed('customer-left');
      const atClose = fold(given.events);
      given.replyCompleted(turn.turnId, 'too late');
      given.message('are you there?');

      const state = fold(given.events);

      expect(statusOf(state)).toBe('closed');
      expect(contextOf(state)).toEqual(contextOf(atClose));
      expect(contextOf(state).activeTurn).toBeNull();
      expect(state.version).toBe(6);
    });
  });

  describe('evolve guards the stream order', () => {
    it.each([
      ['a gap', 4],
      ['a repeated sequence', 2],
      ['a step back', 1],
    ])('rejects %s with stream-corrupted', (_label, sequence) => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.message('hello');
      const state = fold(given.events);
      const bad = new ConversationStreamBuilder().event(
        'conversation.message-received.v1',
        { messageId: fixtureId('a', 1), text: 'hi' },
        { sequence },
      );

      const error = catchError(() => evolve(state, bad));

      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'stream-corrupted', details: { conversationId: CONVERSATION_ID } });
      expect((error as AppError).message).toBe(`expected sequence 3, got ${sequence}`);
    });

    it('rejects a stream that does not start at sequence 1', () => {
      const given = new ConversationStreamBuilder();
      const started = given.event(
        'conversation.started.v2',
        { channel: 'web', locale: null, labels: {}, configVersion: 0 },
        { sequence: 2 },
      );

      expect(catchError(() => evolve(initialState(), started))).toMatchObject({ code: 'stream-corrupted' });
    });

    it('does not change the state it was given', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const state = fold(given.events);
      const snapshotBefore = JSON.stringify(toView(state));

      evolve(state, given.message('hello'));

      expect(state.version).toBe(1);
      expect(statusOf(state)).toBe('greeting');
      expect(JSON.stringify(toView(state))).toBe(snapshotBefore);
    });
  });

  describe('deterministic replay', () => {
    /** A stream that visits every state and every event type, including ignored ones. */
    function richStream(): ConversationEvent[] {
      const given = new ConversationStreamBuilder();
      given.started({ channel: 'app', locale: 'en', labels: { campaign: 'spring' } });
      const m1 = given.message('hello');
      const { data: t1 } = given.replyRequested([m1.data.messageId]);
      given.chunk(t1.turnId, 1, 0, 'Hi');
      const m2 = given.message('one more thing');
      given.chunk(t1.turnId, 2, 0, 'Hi');
      given.replyCompleted(t1.turnId, 'Hi there', 2);
      const { data: t2 } = given.replyRequested([m2.data.messageId]);
      given.replyCompleted(fixtureId('f', 1), 'stale');
      given.replyFailed(t2.turnId);
      const m3 = given.message('still there?');
      const { data: t3 } = given.replyRequested([m3.data.messageId]);
      given.replyCompleted(t3.turnId, 'Yes.');
      given.closed('resolved');
      given.message('after close');
      return given.events;
    }

    it('folds the same events twice to deep-equal, JSON-plain views', () => {
      const events = richStream();

      const first = toView(fold(events));
      const second = toView(fold(events));

      expect(second).toEqual(first);
      expect(JSON.parse(JSON.stringify(first))).toEqual(first);
      expect(first).toMatchObject({ status: 'closed', version: events.length, turnsCompleted: 2 });
    });

    it('folds the stream in one go to the same state as in two halves, at every split point', () => {
      const events = richStream();
      const whole = fold(events);

      for (let split = 0; split <= events.length; split++) {
        const halves: ConversationState = fold(events.slice(split), fold(events.slice(0, split)));
        expect({ split, view: toView(halves), value: halves.snapshot.value }).toEqual({
          split,
          view: toView(whole),
          value: whole.snapshot.value,
        });
      }
    });

    it('two identical builders produce identical streams, so fixtures cannot hide nondeterminism', () => {
      expect(richStream()).toEqual(richStream());
    });
  });
});
