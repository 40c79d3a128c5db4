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
