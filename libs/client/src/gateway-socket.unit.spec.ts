import { ClientFrameSchema, ServerFrameSchema, type ServerFrame } from '@contracts';
import { fold, toView } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { FrameTimeoutError, describeFrames, transcriptFrom, type ReceivedFrame } from './gateway-socket';

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

describe('the transcript a compact subscription keeps', () => {
  it('is the subscribed transcript followed by what each state-compact frame added; a full state frame resets it', () => {
    const stream = new ConversationStreamBuilder();
    const started = stream.started();
    const first = stream.message('你好');
    const atSubscribe = toView(fold(stream.events));
    const turn = stream.replyRequested([first.data.messageId]);
    stream.replyCompleted(turn.data.turnId, '您好，请问有什么可以帮您？');
    const answered = toView(fold(stream.events));
    const second = stream.message('where is my order?');
    const latest = toView(fold(stream.events));
    const compact = (view: typeof latest, added: typeof latest.transcript): ServerFrame => {
      const { transcript, ...rest } = view;
      return {
        type: 'state-compact',
        state: { ...rest, transcriptLength: transcript.length },
        transcriptAdded: added,
      };
    };
    const other = new ConversationStreamBuilder('00000000-0000-4000-8000-0000000000ff');
    other.started();
    other.message('not this one');
    const otherView = toView(fold(other.events));

    expect(transcriptFrom(at([compact(answered, answered.transcript)]), started.conversationId)).toBeNull();
    const frames: ServerFrame[] = [
      { type: 'subscribed', conversationId: started.conversationId, state: atSubscribe },
      { type: 'subscribed', conversationId: otherView.conversationId, state: otherView },
      compact(answered, answered.transcript.slice(atSubscribe.transcript.length)),
      compact(otherView, otherView.transcript),
      compact(latest, latest.transcript.slice(answered.transcript.length)),
    ];
    for (const frame of frames) expect(ServerFrameSchema.parse(frame)).toEqual(frame);
    expect(transcriptFrom(at(frames), started.conversationId)).toEqual(latest.transcript);
    expect(transcriptFrom(at(frames), started.conversationId)?.map((entry) => entry.id)).toEqual([
      first.data.messageId,
      turn.data.turnId,
      second.data.messageId,
    ]);
    // A full state frame carries the whole transcript: what came before it no longer counts.
    expect(
      transcriptFrom(at([...frames, { type: 'state', state: answered }]), started.conversationId),
    ).toEqual(answered.transcript);
  });

  it('is asked for on subscribe; a mode outside the contract is refused', () => {
    const conversationId = '00000000-0000-4000-8000-000000000001';
    for (const stateFrames of ['full', 'compact'] as const) {
      expect(ClientFrameSchema.parse({ type: 'subscribe', conversationId, stateFrames })).toEqual({
        type: 'subscribe',
        conversationId,
        stateFrames,
      });
    }
    expect(
      ClientFrameSchema.safeParse({ type: 'subscribe', conversationId, stateFrames: 'delta' }).success,
    ).toBe(false);
  });
});
