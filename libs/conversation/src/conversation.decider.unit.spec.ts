import { AppError, type PendingEvent } from '@contracts';
import { ConversationStreamBuilder, CONVERSATION_ID, fixtureId } from './conversation-stream.fixture';
import { decide, decideReply, type ConversationCommand, type ReplyPolicy } from './conversation.decider';
import { contextOf, fold, initialState, statusOf } from './conversation.state';
import { derivedId } from './ids';
import { promptBound } from './prompt-budget';

const POLICY: ReplyPolicy = {
  systemPrompt: 'You are a support assistant.',
  historyLimit: 12,
  maxTokens: 256,
  contextTokens: 4096,
};
/** The policy's prompt with the note a reply to an English message ends with. */
const ENGLISH_SYSTEM =
  "You are a support assistant.\n\nThe customer's last message is in English: write your reply in English.";

function decideError(command: ConversationCommand, events = new ConversationStreamBuilder().events): unknown {
  try {
    decide(command, fold(events));
  } catch (error) {
    return error;
  }
  throw new Error('expected decide to reject');
}

const receive = (messageId: string, text = 'hello'): ConversationCommand => ({
  type: 'receive-message',
  eventId: fixtureId('d', 1),
  messageId,
  text,
});

function requested(events: PendingEvent[]) {
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event?.type !== 'conversation.reply-requested.v1')
    throw new Error(`expected reply-requested, got ${event?.type}`);
  return event;
}

describe('decide', () => {
  describe('start-conversation', () => {
    const start: ConversationCommand = {
      type: 'start-conversation',
      eventId: fixtureId('d', 9),
      data: { channel: 'email', locale: 'en-GB', labels: { queue: 'returns' }, configVersion: 2 },
    };

    it('given a new conversation, then it is started with the command id and data', () => {
      expect(decide(start, initialState())).toEqual([
        {
          eventId: fixtureId('d', 9),
          type: 'conversation.started.v2',
          data: { channel: 'email', locale: 'en-GB', labels: { queue: 'returns' }, configVersion: 2 },
        },
      ]);
    });

    it('given a started conversation, then it is rejected with conversation-exists', () => {
      const given = new ConversationStreamBuilder();
      given.started();

      const error = decideError(start, given.events);

      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'conversation-exists', status: 409 });
    });
  });

  describe('receive-message', () => {
    it('given an unknown conversation, then it is rejected with conversation-not-found', () => {
      expect(decideError(receive(fixtureId('a', 1)))).toMatchObject({
        code: 'conversation-not-found',
        status: 404,
      });
    });

    it('given an open conversation, then the message is received with its id and text', () => {
      const given = new ConversationStreamBuilder();
      given.started();

      const events = decide(receive(fixtureId('a', 1), '我想退货'), fold(given.events));

      expect(events).toEqual([
        {
          eventId: fixtureId('d', 1),
          type: 'conversation.message-received.v1',
          data: { messageId: fixtureId('a', 1), text: '我想退货' },
        },
      ]);
    });

    it('given the same messageId was already received, then re-sending it yields nothing', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.message('hello', fixtureId('a', 1));

      expect(decide(receive(fixtureId('a', 1)), fold(given.events))).toEqual([]);
    });

    it('given the same messageId was received with another text, then it is rejected as a reused key', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.message('hello', fixtureId('a', 1));

      const error = decideError(receive(fixtureId('a', 1), 'goodbye'), given.events);

      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('idempotency-key-reused');
    });

    it('given the message was answered meanwhile, then re-sending it still yields nothing', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.message('hello', fixtureId('a', 1));
      const { data: turn } = given.replyRequested([fixtureId('a', 1)]);
      given.replyCompleted(turn.turnId, 'Hi');

      expect(decide(receive(fixtureId('a', 1)), fold(given.events))).toEqual([]);
    });

    it('given a closed conversation, then a new message is rejected with conversation-closed', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.closed('resolved');

      const error = decideError(receive(fixtureId('a', 2)), given.events);

      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'conversation-closed', status: 409 });
    });

    it('given a closed conversation, then a retry of a message it had received is idempotent, not an error', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.message('hello', fixtureId('a', 1));
      given.closed('customer-left');

      expect(decide(receive(fixtureId('a', 1)), fold(given.events))).toEqual([]);
    });

    it('the event it returns folds into the state (schema-valid once enveloped)', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      const [event] = decide(receive(fixtureId('a', 5), 'hi'), fold(given.events));
      if (!event) throw new Error('no event');

      given.append(event);

      expect(contextOf(fold(given.events)).pendingMessageIds).toEqual([fixtureId('a', 5)]);
    });
  });

  describe('close-conversation', () => {
    const close: ConversationCommand = {
      type: 'close-conversation',
      eventId: fixtureId('d', 3),
      reason: 'resolved',
    };

    it('given an unknown conversation, then it is rejected with conversation-not-found', () => {
      expect(decideError(close)).toMatchObject({ code: 'conversation-not-found' });
    });

    it.each(['greeting', 'answering', 'collecting'])(
      'given a %s conversation, then it is closed',
      (status) => {
        const given = new ConversationStreamBuilder();
        given.started();
        if (status !== 'greeting') {
          const m1 = given.message('hi');
          if (status === 'collecting') {
            const { data: turn } = given.replyRequested([m1.data.messageId]);
            given.replyCompleted(turn.turnId, 'hello');
          }
        }
        const state = fold(given.events);
        expect(statusOf(state)).toBe(status);

        expect(decide(close, state)).toEqual([
          { eventId: fixtureId('d', 3), type: 'conversation.closed.v1', data: { reason: 'resolved' } },
        ]);
      },
    );

    it('given a closed conversation, then closing again yields nothing', () => {
      const given = new ConversationStreamBuilder();
      given.started();
      given.closed('customer-left');

      expect(decide(close, fold(given.events))).toEqual([]);
    });
  });
});

describe('decideReply', () => {
  function answeringWith(...texts: string[]) {
    const given = new ConversationStreamBuilder();
    given.started();
    const messageIds = texts.map((text) => given.message(text).data.messageId);
    return { given, messageIds };
  }

  it('given pending messages and no open turn, then one reply is requested with a turn id derived from them', () => {
    const { given, messageIds } = answeringWith('hello', 'is anyone there?');

    const event = requested(decideReply(fold(given.events), POLICY));

    const turnId = derivedId('turn', CONVERSATION_ID, ...messageIds);
    expect(event).toEqual({
      eventId: derivedId('reply-requested', turnId),
      type: 'conversation.reply-requested.v1',
      data: {
        turnId,
        inReplyTo: messageIds,
        prompt: [
          { role: 'system', content: ENGLISH_SYSTEM },
          { role: 'user', content: 'hello' },
          { role: 'user', content: 'is anyone there?' },
        ],
        maxTokens: 256,
      },
    });
  });

  it('is deterministic: the same stream, folded separately, yields the same ids and prompt', () => {
    const first = decideReply(fold(answeringWith('hello').given.events), POLICY);
    const second = decideReply(fold(answeringWith('hello').given.events), POLICY);

    expect(second).toEqual(first);
    expect(requested(first).data.turnId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
  });

  it('derives a different turn for a different set of pending messages', () => {
    const one = requested(decideReply(fold(answeringWith('hello').given.events), POLICY));
    const two = requested(decideReply(fold(answeringWith('hello', 'again').given.events), POLICY));

    expect(two.data.turnId).not.toBe(one.data.turnId);
    expect(two.eventId).not.toBe(one.eventId);
  });

  it('derives a different turn for the same messages in another conversation', () => {
    const here = new ConversationStreamBuilder();
    here.started();
    here.message('hello', fixtureId('a', 1));
    const there = new ConversationStreamBuilder(fixtureId('f', 2));
    there.started();
    there.message('hello', fixtureId('a', 1));

    const a = requested(decideReply(fold(here.events), POLICY));
    const b = requested(decideReply(fold(there.events), POLICY));

    expect(a.data.turnId).not.toBe(b.data.turnId);
  });

  it('carries the system prompt then only the last N transcript entries, customers as user and replies as assistant', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const m1 = given.message('first question');
    const { data: t1 } = given.replyRequested([m1.data.messageId]);
    given.replyCompleted(t1.turnId, 'first answer');
    given.message('second question');

    const event = requested(decideReply(fold(given.events), { ...POLICY, historyLimit: 2 }));

    expect(event.data.prompt).toEqual([
      { role: 'system', content: ENGLISH_SYSTEM },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ]);
    expect(event.data.maxTokens).toBe(256);
  });

  it('given a conversation longer than the context window, then the oldest turns are cut and the open question is sent', () => {
    const texts = Array.from({ length: 12 }, (_, index) => `question ${index} `.padEnd(300, 'x'));
    const { given } = answeringWith(...texts);

    const event = requested(
      decideReply(fold(given.events), { ...POLICY, contextTokens: 1500, maxTokens: 200 }),
    );

    expect(promptBound(event.data.prompt)).toBeLessThanOrEqual(1300);
    expect(event.data.prompt.at(-1)).toEqual({ role: 'user', content: texts.at(-1) });
    expect(event.data.prompt[1]?.content).not.toBe(texts[0]);
    expect(event.data.prompt[0]?.content.startsWith('You are a support assistant.')).toBe(true);
  });

  it('with historyLimit 0, carries the system prompt and the open question, no earlier turn', () => {
    const { given } = answeringWith('hello');

    const event = requested(decideReply(fold(given.events), { ...POLICY, historyLimit: 0 }));

    expect(event.data.prompt).toEqual([
      { role: 'system', content: ENGLISH_SYSTEM },
      { role: 'user', content: 'hello' },
    ]);
  });

  it('names the language of the customer’s last message last in the system prompt, whatever came before', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const m1 = given.message('我的包裹到哪了？');
    const { data: t1 } = given.replyRequested([m1.data.messageId]);
    given.replyCompleted(t1.turnId, '请提供订单号。');
    given.message('Can I change the address for order E20261128004512?');

    const english = requested(decideReply(fold(given.events), POLICY));
    const chinese = requested(
      decideReply(fold(answeringWith('订单 E20261128004512 还没到').given.events), POLICY),
    );
    const unknown = requested(decideReply(fold(answeringWith('12345 ?').given.events), POLICY));

    expect(english.data.prompt[0]?.content).toBe(ENGLISH_SYSTEM);
    expect(chinese.data.prompt[0]?.content).toBe(
      "You are a support assistant.\n\nThe customer's last message is in Chinese: write your reply in Chinese.",
    );
    expect(unknown.data.prompt[0]?.content).toBe('You are a support assistant.');
  });

  // The transcript is in stream order, so a message that arrived while the previous turn was generating
  // sits before that turn's reply; the prompt must still end with the unanswered message.
  it('after a message arrived during a turn, the next prompt ends with that still-unanswered message', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const m1 = given.message('my order is late');
    const { data: t1 } = given.replyRequested([m1.data.messageId]);
    given.message('it is order 4711');
    given.replyCompleted(t1.turnId, 'Sorry to hear that, which order?');

    const event = requested(decideReply(fold(given.events), POLICY));

    expect(event.data.prompt.slice(1)).toEqual([
      { role: 'user', content: 'my order is late' },
      { role: 'assistant', content: 'Sorry to hear that, which order?' },
      { role: 'user', content: 'it is order 4711' },
    ]);
  });

  it('its event, once stored, opens the turn, after which nothing more is requested', () => {
    const { given, messageIds } = answeringWith('hello');
    const [event] = decideReply(fold(given.events), POLICY);
    if (!event) throw new Error('no event');

    given.append(event);
    const state = fold(given.events);

    expect(contextOf(state).activeTurn).toMatchObject({ inReplyTo: messageIds });
    expect(decideReply(state, POLICY)).toEqual([]);
  });

  it('requests nothing while a turn is open, even with new messages pending', () => {
    const { given, messageIds } = answeringWith('hello');
    given.replyRequested(messageIds);
    given.message('and another thing');
    const state = fold(given.events);
    expect(contextOf(state).pendingMessageIds).toHaveLength(1);

    expect(decideReply(state, POLICY)).toEqual([]);
  });

  it('after that turn completes, requests a reply for exactly the messages that waited', () => {
    const { given, messageIds } = answeringWith('hello');
    const { data: t1 } = given.replyRequested(messageIds);
    const m2 = given.message('and another thing');
    given.replyCompleted(t1.turnId, 'Hi');

    const event = requested(decideReply(fold(given.events), POLICY));

    expect(event.data.inReplyTo).toEqual([m2.data.messageId]);
    expect(event.data.turnId).toBe(derivedId('turn', CONVERSATION_ID, m2.data.messageId));
  });

  it.each([
    ['new', () => new ConversationStreamBuilder()],
    [
      'greeting',
      () => {
        const given = new ConversationStreamBuilder();
        given.started();
        return given;
      },
    ],
    [
      'collecting',
      () => {
        const { given, messageIds } = answeringWith('hello');
        const { data: turn } = given.replyRequested(messageIds);
        given.replyCompleted(turn.turnId, 'Hi');
        return given;
      },
    ],
    [
      'closed',
      () => {
        const { given } = answeringWith('hello');
        given.closed('customer-left');
        return given;
      },
    ],
  ])('requests nothing when the conversation is %s (not answering / nothing pending)', (status, build) => {
    const state = fold(build().events);
    expect(statusOf(state)).toBe(status);

    expect(decideReply(state, POLICY)).toEqual([]);
  });
});
