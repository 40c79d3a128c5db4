import type { ServerFrame, StateFrames } from '@contracts';
import { toView, type ConversationState } from '@libs/conversation';

export interface StateFrame {
  frame: ServerFrame;
  /** Transcript entries the subscriber holds once it has this frame. */
  transcriptSent: number;
}

/**
 * The frame a subscription is sent after an event that changed the conversation: the whole view
 * (`full`), or the view without its transcript and the entries the subscriber does not hold yet
 * (`compact`). The transcript only ever grows, so what it lacks is the tail past `transcriptSent`.
 */
export function stateFrame(mode: StateFrames, state: ConversationState, transcriptSent: number): StateFrame {
  const view = toView(state);
  if (mode === 'full')
    return { frame: { type: 'state', state: view }, transcriptSent: view.transcript.length };
  const { transcript, ...rest } = view;
  return {
    frame: {
      type: 'state-compact',
      state: { ...rest, transcriptLength: transcript.length },
      transcriptAdded: transcript.slice(transcriptSent),
    },
    transcriptSent: transcript.length,
  };
}
