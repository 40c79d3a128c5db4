import type { ConversationEvent } from '@contracts';
import { ConversationStreamBuilder, fixtureId } from '@libs/conversation/testing';
import { advanceTurn, followTurn, type TurnReply } from './turn-reply';

function follow(messageId: string, events: ConversationEvent[]): { turn: TurnReply; deltas: string[] } {
  let turn = followTurn(messageId);
  const deltas: string[] = [];
  for (const event of events) {
    const step = advanceTurn(turn, event);
    turn = step.turn;
    if (step.delta !== null) deltas.push(step.delta);
  }
  return { turn, deltas };
}

describe('following the answer to one customer message', () => {
  const mine = fixtureId('a', 101);
  const other = fixtureId('a', 102);
  const turnId = fixtureId('b', 1);

  it('streams the chunks of the reply that answers it, and ends with the completed reply', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    given.message('where is my parcel', mine);
    given.replyRequested([mine], turnId);
    given.chunk(turnId, 1, 0, 'It is ');
    given.chunk(turnId, 1, 1, 'on its way.');
    given.replyCompleted(turnId, 'It is on its way.');

    const { turn, deltas } = follow(mine, given.events.slice(2));

    expect(deltas).toEqual(['It is ', 'on its way.']);
    expect(turn.outcome).toEqual({
      kind: 'replied',
      text: 'It is on its way.',
      finishReason: 'stop',
      usage: { promptTokens: 10, completionTokens: 5 },
    });
  });

  it('ignores another message’s reply and a regeneration’s chunks', () => {
    const given = new ConversationStreamBuilder();
    const otherTurn = fixtureId('b', 2);
    given.replyRequested([other], otherTurn);
    given.chunk(otherTurn, 1, 0, 'not mine');
    given.replyCompleted(otherTurn, 'not mine');
    given.replyRequested([other, mine], turnId);
    given.chunk(turnId, 1, 0, 'first ');
    given.chunk(turnId, 2, 0, 'again ');
    given.chunk(turnId, 1, 1, 'try');

    const { turn, deltas } = follow(mine, given.events);

    expect(deltas).toEqual(['first ', 'try']);
    expect(turn.outcome).toBeNull();
  });

  it('ends with a fixed text sent in reply (a slot question, a handoff notice)', () => {
    const given = new ConversationStreamBuilder();
    given.event('conversation.bot-message-sent.v1', {
      messageId: fixtureId('c', 1),
      inReplyTo: [mine],
      template: 'ask_order_id',
      slot: 'order_id',
      text: 'Your order number?',
    });

    const { turn, deltas } = follow(mine, given.events);

    expect(deltas).toEqual(['Your order number?']);
    expect(turn.outcome).toMatchObject({ kind: 'replied', text: 'Your order number?', usage: null });
  });

  it('ends failed when the reply fails, and closed when the conversation closes first', () => {
    const failed = new ConversationStreamBuilder();
    failed.replyRequested([mine], turnId);
    failed.replyFailed(turnId);
    const closed = new ConversationStreamBuilder();
    closed.closed();

    expect(follow(mine, failed.events).turn.outcome).toMatchObject({ kind: 'failed', code: 'model-timeout' });
    expect(follow(mine, closed.events).turn.outcome).toEqual({ kind: 'closed' });
  });
});
