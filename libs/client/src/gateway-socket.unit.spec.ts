import type { ServerFrame } from '@contracts';
import { fold, toView } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { FrameTimeoutError, describeFrames, type ReceivedFrame } from './gateway-socket';

const at = (frames: ServerFrame[]): ReceivedFrame[] => frames.map((frame) => ({ frame, receivedAt: 0 }));

describe('a timeout names the frames that did arrive', () => {
  it('events by type and sequence, a streamed reply as one run, errors by code', () => {
    const stream = new ConversationStreamBuilder();
    const started = stream.started();
    const message = stream.message('你好');
    const turn = stream.replyRequested([message.data.messageId]);
    const chunks = [0, 1, 2].map((index) => stream.chunk(turn.data.turnId, index + 1, index));
    const state = toView(fold(stream.events));
    const frames: ServerFrame[] = [
      { type: 'subscribed', conversationId: started.conversationId, state },
      { type: 'event', event: message },
      { type: 'state', state },
      { type: 'event', event: turn },
      { type: 'state', state },
      ...chunks.map((event): ServerFrame => ({ type: 'event', event })),
      { type: 'error', code: 'conversation-not-found', detail: '' },
    ];

    expect(describeFrames(at(frames))).toBe(
      `subscribed, message-received.v1#${message.sequence}, state, reply-requested.v1#${turn.sequence}, ` +
        'state, reply-chunk-generated.v1 x3, error(conversation-not-found)',
    );
    expect(new FrameTimeoutError(500, at(frames)).message).toBe(
      `no matching frame within 500 ms (${frames.length} frames so far: ${describeFrames(at(frames))})`,
    );
  });

  it('no frame at all reads as none', () => {
    expect(new FrameTimeoutError(10, []).message).toBe(
      'no matching frame within 10 ms (0 frames so far: none)',
    );
  });
});
