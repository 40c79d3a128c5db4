import type { ConversationEvent, PendingEvent } from '@contracts';
import { fold, toView } from '@libs/conversation';
import { closed, started, understoodTurn } from '@test/support';
import { replayConversation } from './conversation-replay';

const CONVERSATION = '6f1c2a4e-3b5d-4c7e-9f80-1a2b3c4d5e6f';

function envelopes(pending: PendingEvent[]): ConversationEvent[] {
  return pending.map((event, index): ConversationEvent => ({
    ...event,
    tenantId: 'acme',
    conversationId: CONVERSATION,
    sequence: index + 1,
    occurredAt: new Date(Date.UTC(2026, 0, 5) + index * 1000).toISOString(),
    causationId: null,
    correlationId: CONVERSATION,
  }));
}

const events = envelopes([
  started(),
  ...understoodTurn({
    text: '我的电话是13800138000，邮箱 li@example.cn',
    intent: 'order_status',
    outcome: 'completed',
  }),
  closed(),
]);

describe('replayConversation', () => {
  it('gives every event with the state after it, as the services fold it', () => {
    const replay = replayConversation(events, { raw: true });
    expect(replay.steps.map((step) => step.sequence)).toEqual(events.map((event) => event.sequence));
    events.forEach((_, index) => {
      expect(replay.steps[index]!.state).toEqual(toView(fold(events.slice(0, index + 1))));
    });
    expect(replay.steps.at(-1)!.state.status).toBe('closed');
  });

  it('redacts personal data in the events and the states by default, ids untouched', () => {
    const replay = replayConversation(events, { raw: false });
    const text = JSON.stringify(replay);
    expect(text).not.toContain('13800138000');
    expect(text).not.toContain('li@example.cn');
    expect(replay.steps[1]!.data).toMatchObject({ text: '我的电话是[phone]，邮箱 [email]' });
    expect(replay.steps.at(-1)!.state.transcript[0]).toMatchObject({
      text: '我的电话是[phone]，邮箱 [email]',
    });
    expect(replay).toMatchObject({ conversationId: CONVERSATION, redacted: true });
    expect(JSON.stringify(replayConversation(events, { raw: true }))).toContain('13800138000');
  });
});
