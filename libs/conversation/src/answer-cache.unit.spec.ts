import {
  answerFromCache,
  answerOfTurn,
  cacheableTurn,
  normaliseQuestion,
  ANSWER_CACHE_BACKEND,
} from './answer-cache';
import { fold } from './conversation.state';
import { Dialogue, TURN_POLICY } from './dialogue.fixture';

const TENANT = 'tenant-a';

/** The state the last reaction decided on, as sessions passes it: before the events it decided. */
function stateBefore(given: Dialogue) {
  return fold(given.events.slice(0, given.events.length - given.decided.length));
}

/** A conversation whose first question is classified and has its knowledge: the reply is requested. */
function askedFaq(question: string, label = 'product_question'): Dialogue {
  const given = new Dialogue().start();
  const message = given.say(question);
  given.classify(message.data.messageId, label).knowledge(message.data.messageId);
  return given;
}

describe('normaliseQuestion', () => {
  it('given width, case, whitespace and punctuation variants, then they normalise alike', () => {
    expect(normaliseQuestion('  Is this kettle  STAINLESS steel？ ')).toBe('is this kettle stainless steel');
    expect(normaliseQuestion('ｉｓ　this kettle stainless steel?!')).toBe('is this kettle stainless steel');
    expect(normaliseQuestion('这个电水壶是多少瓦的？')).toBe(normaliseQuestion('这个电水壶是多少瓦的'));
  });

  it('given different words, then they stay different', () => {
    expect(normaliseQuestion('is it steel')).not.toBe(normaliseQuestion('is it still'));
  });
});

describe('cacheableTurn', () => {
  it('given a first FAQ question with no slots, when its reply is requested, then it has a key', () => {
    const given = askedFaq('Is this kettle stainless steel?');

    const turn = cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY);

    expect(turn?.turnId).toBe(given.lastOf('conversation.reply-requested.v1').data.turnId);
    expect(turn?.cacheKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('given the same question differently written in another conversation, then the key is the same', () => {
    const one = askedFaq('Is this kettle stainless steel?');
    const two = askedFaq('is this kettle  STAINLESS steel');

    expect(cacheableTurn(TENANT, stateBefore(one), one.decided, TURN_POLICY)?.cacheKey).toBe(
      cacheableTurn(TENANT, stateBefore(two), two.decided, TURN_POLICY)?.cacheKey,
    );
  });

  it('given another tenant, then the key differs', () => {
    const given = askedFaq('Is this kettle stainless steel?');

    expect(cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)?.cacheKey).not.toBe(
      cacheableTurn('tenant-b', stateBefore(given), given.decided, TURN_POLICY)?.cacheKey,
    );
  });

  it('given other knowledge retrieved, then the key differs', () => {
    const one = askedFaq('Is this kettle stainless steel?');
    const two = new Dialogue().start();
    const message = two.say('Is this kettle stainless steel?');
    two.classify(message.data.messageId, 'product_question').knowledge(message.data.messageId, []);

    expect(cacheableTurn(TENANT, stateBefore(one), one.decided, TURN_POLICY)?.cacheKey).not.toBe(
      cacheableTurn(TENANT, stateBefore(two), two.decided, TURN_POLICY)?.cacheKey,
    );
  });

  it('given an intent with slots, then the turn is not cacheable', () => {
    const given = new Dialogue().start();
    const first = given.say('我要退款，订单号E20261130123456');
    given.classify(first.data.messageId, 'refund').extracted(first.data.messageId, { reason: '质量问题' });
    given.knowledge(first.data.messageId);

    expect(given.decidedTypes()).toContain('conversation.reply-requested.v1');
    expect(cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)).toBeNull();
  });

  it('given a question carrying its order number, classified after its knowledge came, then it is not cacheable', () => {
    const given = new Dialogue().start();
    const first = given.say('我的包裹什么时候能到？订单号是 E20261128004512');
    given.knowledge(first.data.messageId).classify(first.data.messageId, 'order_status');

    // One decision resolves the intent, fills the order number and requests the reply.
    expect(given.decidedTypes()).toEqual(
      expect.arrayContaining([
        'conversation.intent-resolved.v1',
        'conversation.slot-filled.v1',
        'conversation.reply-requested.v1',
      ]),
    );
    expect(cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)).toBeNull();
  });

  it('given an earlier turn in the conversation, then the next question is not cacheable', () => {
    const given = askedFaq('Is this kettle stainless steel?');
    const turnId = given.lastOf('conversation.reply-requested.v1').data.turnId;
    given.append(
      answerFromCache(
        { turnId, cacheKey: 'a'.repeat(64) },
        { sourceConversationId: '0', sourceTurnId: '0', text: 'Yes.' },
      )[1]!,
    );
    const next = given.say('Is this kettle stainless steel?');
    given.classify(next.data.messageId, 'product_question').knowledge(next.data.messageId);

    expect(given.decidedTypes()).toContain('conversation.reply-requested.v1');
    expect(cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)).toBeNull();
  });

  it('given earlier turns the prompt budget cut out, then the question is still not cacheable', () => {
    const given = new Dialogue({ ...TURN_POLICY, contextTokens: 1024, maxTokens: 256 }).start();
    const first = given.say('Is this kettle stainless steel? '.repeat(20));
    given.classify(first.data.messageId, 'product_question').knowledge(first.data.messageId, []);
    const turnId = given.lastOf('conversation.reply-requested.v1').data.turnId;
    given.append(
      answerFromCache(
        { turnId, cacheKey: 'a'.repeat(64) },
        { sourceConversationId: '0', sourceTurnId: '0', text: 'Yes. '.repeat(200) },
      )[1]!,
    );
    const next = given.say('Is this kettle stainless steel?');
    given.classify(next.data.messageId, 'product_question').knowledge(next.data.messageId, []);

    expect(given.lastOf('conversation.reply-requested.v1').data.prompt).toHaveLength(2);
    expect(cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)).toBeNull();
  });

  it('given decisions without a reply request, then there is nothing to cache', () => {
    const given = new Dialogue().start();
    given.say('Is this kettle stainless steel?');

    expect(cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)).toBeNull();
  });
});

describe('answerFromCache', () => {
  it('given a hit, then the turn completes with the cached text, named as the cache, after the hit', () => {
    const given = askedFaq('Is this kettle stainless steel?');
    const turn = cacheableTurn(TENANT, stateBefore(given), given.decided, TURN_POLICY)!;
    const source = {
      sourceConversationId: '0190f0c2-3b4d-7e8f-9a0b-1c2d3e4f5a6b',
      sourceTurnId: turn.turnId,
    };

    const events = answerFromCache(turn, { ...source, text: 'Yes, 304 steel.' });
    for (const event of events) given.stream.append(event);

    expect(events.map((event) => event.type)).toEqual([
      'conversation.answer-cache-hit.v1',
      'conversation.reply-completed.v2',
    ]);
    expect(events[0]?.data).toEqual({ turnId: turn.turnId, cacheKey: turn.cacheKey, ...source });
    const completed = given.lastOf('conversation.reply-completed.v2').data;
    expect(completed.text).toBe('Yes, 304 steel.');
    expect(completed.parts).toEqual([
      { backend: ANSWER_CACHE_BACKEND, model: ANSWER_CACHE_BACKEND, start: 0, end: 15 },
    ]);
    expect(answerOfTurn(given.state, turn.turnId)).toBe('Yes, 304 steel.');
  });

  it('given a source turn that never completed, then there is no answer to reuse', () => {
    const given = askedFaq('Is this kettle stainless steel?');

    expect(answerOfTurn(given.state, given.lastOf('conversation.reply-requested.v1').data.turnId)).toBeNull();
  });
});
