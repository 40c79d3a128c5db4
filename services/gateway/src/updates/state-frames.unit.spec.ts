import { ServerFrameSchema, type ConversationEvent, type ServerFrame } from '@contracts';
import { evolve, fold, toView, type ConversationState } from '@libs/conversation';
import { ConversationStreamBuilder } from '@libs/conversation/testing';
import { stateFrame } from './state-frames';

/** A conversation of `turns` answered turns, each streamed in two chunks. */
function conversation(turns: number): ConversationStreamBuilder {
  const stream = new ConversationStreamBuilder();
  stream.started();
  for (let turn = 1; turn <= turns; turn++) {
    const message = stream.message(`Where is order E2026-${turn}? It has been a week since I placed it.`);
    const request = stream.replyRequested([message.data.messageId]);
    stream.chunk(request.data.turnId, 1, 0, 'It left ');
    stream.chunk(request.data.turnId, 1, 1, 'the warehouse yesterday.');
    stream.replyCompleted(request.data.turnId, 'It left the warehouse yesterday.');
  }
  return stream;
}

/**
 * What a subscriber that joined after `subscribedAt` events receives, as the gateway sends it: the state
 * frame after every later event that changes the conversation (not after chunks), with that state.
 */
function framesAfter(
  events: readonly ConversationEvent[],
  subscribedAt: number,
  mode: 'full' | 'compact',
): { subscribed: ConversationState; frames: { frame: ServerFrame; state: ConversationState }[] } {
  const subscribed = fold(events.slice(0, subscribedAt));
  let state = subscribed;
  let transcriptSent = toView(subscribed).transcript.length;
  const frames: { frame: ServerFrame; state: ConversationState }[] = [];
  for (const event of events.slice(subscribedAt)) {
    state = evolve(state, event);
    if (event.type === 'conversation.reply-chunk-generated.v1') continue;
    const next = stateFrame(mode, state, transcriptSent);
    transcriptSent = next.transcriptSent;
    frames.push({ frame: next.frame, state });
  }
  return { subscribed, frames };
}

describe('the state frames a subscription is sent', () => {
  it('full: the whole view after each change, as before', () => {
    const { events } = conversation(3);
    const { frames } = framesAfter(events, 2, 'full');
    const changing = events
      .slice(2)
      .filter((event) => event.type !== 'conversation.reply-chunk-generated.v1');
    expect(frames).toHaveLength(changing.length);
    expect(frames.at(-1)?.frame).toEqual({ type: 'state', state: toView(fold(events)) });
    for (const { frame } of frames) expect(ServerFrameSchema.parse(frame)).toEqual(frame);
  });

  it('compact: the view without its transcript, and the entries added; together they are the whole transcript', () => {
    const { events } = conversation(4);
    for (const subscribedAt of [1, 2, 7, events.length - 1]) {
      const { subscribed, frames } = framesAfter(events, subscribedAt, 'compact');
      const transcript = [...toView(subscribed).transcript];
      const changing = events
        .slice(subscribedAt)
        .filter((event) => event.type !== 'conversation.reply-chunk-generated.v1');
      expect(frames).toHaveLength(changing.length);
      for (const { frame, state } of frames) {
        expect(ServerFrameSchema.parse(frame)).toEqual(frame);
        if (frame.type !== 'state-compact') throw new Error(`expected state-compact, got ${frame.type}`);
        const { transcript: whole, ...rest } = toView(state);
        expect(frame.state).toEqual({ ...rest, transcriptLength: whole.length });
        transcript.push(...frame.transcriptAdded);
        expect(transcript).toEqual(whole);
      }
    }
  });

  it('compact: a frame stays the same size however long the conversation, where a full one grows with it', () => {
    const size = (turns: number, mode: 'full' | 'compact'): number => {
      const { events } = conversation(turns);
      // The frame after the last completion, which adds one entry.
      return JSON.stringify(framesAfter(events, events.length - 1, mode).frames[0]?.frame).length;
    };
    expect(size(30, 'full')).toBeGreaterThan(5 * size(2, 'full'));
    // The digits of the version and the length grow, nothing else.
    expect(size(30, 'compact') - size(2, 'compact')).toBeLessThan(10);
  });
});
