import { ConversationStreamBuilder } from './conversation-stream.fixture';
import { contentFlagged } from './content-flags';
import { fold, statusOf, toView } from './conversation.state';

describe('content flags in the conversation', () => {
  it('given a customer message flagged for handoff, when folded, then a human has the conversation and the bot owes nothing', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const message = given.message('可以刷*单吗');
    given.append(
      contentFlagged(
        { direction: 'inbound', messageId: message.data.messageId },
        { action: 'handoff', categories: ['fraud'], matches: 1 },
      ),
    );

    const state = fold(given.events);

    expect(statusOf(state)).toBe('handed-off');
    expect(toView(state)).toMatchObject({
      handoff: { reason: 'content-filter', intent: null, sinceSequence: given.events.length },
      pendingMessageIds: [],
    });
  });

  it('given flags that mask or block, when folded, then the conversation goes on as before', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const message = given.message('加****');
    given.append(
      contentFlagged(
        { direction: 'inbound', messageId: message.data.messageId },
        { action: 'mask', categories: ['contact-diversion'], matches: 1 },
      ),
    );
    const request = given.replyRequested([message.data.messageId]);
    given.replyCompleted(request.data.turnId, '抱歉');
    given.append(
      contentFlagged(
        { direction: 'outbound', turnId: request.data.turnId },
        { action: 'block', categories: ['politics'], matches: 2 },
      ),
    );

    expect(statusOf(fold(given.events))).toBe('collecting');
  });

  it('given a handed-off conversation, when an agent’s masked message is flagged, then the agent keeps it and the flag names the message', () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const message = given.message('我们可以私下****吗？');
    given.append(
      contentFlagged(
        { direction: 'inbound', messageId: message.data.messageId },
        { action: 'handoff', categories: ['fraud'], matches: 1 },
      ),
    );
    const agentMessageId = '22222222-2222-4222-8222-222222222222';
    given.append({
      eventId: '33333333-3333-4333-8333-333333333333',
      type: 'conversation.agent-message-sent.v1',
      data: { messageId: agentMessageId, agentId: 'agent-7', text: '请不要****，我们只走官方渠道。' },
    });
    const flag = given.append(
      contentFlagged(
        { direction: 'outbound', agentMessageId },
        { action: 'mask', categories: ['contact-diversion'], matches: 1 },
      ),
    );

    const state = fold(given.events);

    expect(flag.data).toEqual({
      direction: 'outbound',
      messageId: agentMessageId,
      turnId: null,
      action: 'mask',
      categories: ['contact-diversion'],
      matches: 1,
    });
    expect(statusOf(state)).toBe('handed-off');
    expect(toView(state).transcript.at(-1)).toMatchObject({
      id: agentMessageId,
      text: '请不要****，我们只走官方渠道。',
    });
  });

  it('given the same message or turn, when flagged twice, then the flag has the same id (recorded once)', () => {
    const verdict = { action: 'mask' as const, categories: ['abuse'], matches: 1 };
    const id = '11111111-1111-4111-8111-111111111111';
    expect(contentFlagged({ direction: 'inbound', messageId: id }, verdict).eventId).toBe(
      contentFlagged({ direction: 'inbound', messageId: id }, verdict).eventId,
    );
    expect(contentFlagged({ direction: 'outbound', turnId: id }, verdict).eventId).not.toBe(
      contentFlagged({ direction: 'inbound', messageId: id }, verdict).eventId,
    );
  });
});
