import { ConversationViewSchema, ServerFrameSchema } from '@contracts';
import { fold, toView } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { GatewayError } from './gateway-error';

/** The schemas this client validates with must accept exactly what the gateway builds. */
describe('the client reads what the gateway sends', () => {
  it('every view of a conversation matches the view schema, with no field outside it', () => {
    // toView's type is the schema's, so it cannot miss a field; strict parsing also catches extra ones.
    const stream = new ConversationStreamBuilder();
    stream.started({ labels: { queue: 'billing' } });
    const first = stream.message('你好');
    const turn = stream.replyRequested([first.data.messageId]);
    stream.chunk(turn.data.turnId, 1, 0);
    stream.replyCompleted(turn.data.turnId, 'part');
    const second = stream.message('and my refund?');
    const failed = stream.replyRequested([second.data.messageId]);
    stream.replyFailed(failed.data.turnId);
    stream.closed();

    for (let length = 1; length <= stream.events.length; length++) {
      const view = toView(fold(stream.events.slice(0, length)));
      expect(ConversationViewSchema.strict().parse(view)).toEqual(view);
      expect(ServerFrameSchema.parse({ type: 'state', state: view })).toEqual({ type: 'state', state: view });
    }
  });

  it('an event frame carries a schema-valid event; a frame outside the contract is refused', () => {
    const stream = new ConversationStreamBuilder();
    const started = stream.started();
    expect(ServerFrameSchema.parse({ type: 'event', event: started })).toEqual({
      type: 'event',
      event: started,
    });
    expect(ServerFrameSchema.safeParse({ type: 'event', event: { ...started, sequence: 0 } }).success).toBe(
      false,
    );
    expect(ServerFrameSchema.safeParse({ type: 'error', code: 'no-such-code', detail: '' }).success).toBe(
      false,
    );
    expect(ServerFrameSchema.safeParse({ type: 'welcome' }).success).toBe(false);
  });

  it('a problem+json answer becomes a GatewayError with its status and code', () => {
    const error = GatewayError.fromResponse(
      409,
      {
        type: '/problems/conversation-closed',
        title: 'The conversation is closed',
        status: 409,
        code: 'conversation-closed',
      },
      'POST /v1/conversations/x/messages',
    );
    expect(error).toMatchObject({ status: 409, code: 'conversation-closed', retryable: false });
    expect(error.message).toContain('conversation-closed');

    const notAProblem = GatewayError.fromResponse(502, '<html>bad gateway</html>', 'GET /v1/conversations/x');
    expect(notAProblem).toMatchObject({ status: 502, code: null, problem: null, retryable: true });
  });
});
