import { AppError } from '@contracts';
import { fixtureId } from './conversation-stream.fixture';
import { decide } from './conversation.decider';
import { contextOf, fold, statusOf, toStateAt } from './conversation.state';
import { decideAfter, decideNext } from './dialogue.decider';
import { Dialogue, KNOWLEDGE, TURN_POLICY } from './dialogue.fixture';
import { DerivedIds } from './ids';
import { modelTaskCompleted } from './model-task';
import { decideTimerFired, inactivityTimer, knowledgeWaitTimer } from './timers';

const ORDER = 'E20261130123456';

/** A refund conversation up to the bot asking for the reason. */
function askedForReason() {
  const given = new Dialogue().start();
  const first = given.say(`我要退款，订单号${ORDER}`);
  given.classify(first.data.messageId, 'refund').extracted(first.data.messageId, { reason: null });
  return { given, first };
}

describe('the dialogue', () => {
  describe('understanding a message', () => {
    it('given a started conversation, when the customer writes, then the intent is asked of inference and nothing else yet', () => {
      const given = new Dialogue().start();

      const message = given.say('where is my parcel?');

      expect(given.decided.map((event) => [event.type, event.data])).toEqual([
        [
          'conversation.model-task-requested.v1',
          {
            taskId: DerivedIds.classifyTask(message.data.messageId),
            messageId: message.data.messageId,
            configVersion: 0,
            task: { kind: 'classify-intent', text: 'where is my parcel?' },
          },
        ],
      ]);
      expect(statusOf(given.state)).toBe('answering');
    });

    it('when sessions classifies the message in the step that asks for it, then the outcome and its consequences are decided with the request, as in two steps', () => {
      const given = new Dialogue().start();
      const message = given.say(`我要退款，订单号${ORDER}`);
      const beforeDecision = fold(given.events.filter((event) => event.sequence <= message.sequence));
      const requested = decideNext(beforeDecision, TURN_POLICY);
      const outcome = modelTaskCompleted({
        taskId: DerivedIds.classifyTask(message.data.messageId),
        result: { kind: 'classify-intent', label: 'refund', confidence: 0.9, path: 'fast', candidates: [] },
        model: 'bge-m3',
        timings: { totalMs: 8 },
      });

      const decided = decideAfter(beforeDecision, [...requested, outcome], TURN_POLICY);

      expect(decided.map((event) => event.type)).toEqual([
        'conversation.model-task-requested.v1',
        'conversation.model-task-completed.v1',
        'conversation.intent-resolved.v1',
        'conversation.slot-filled.v1',
        'conversation.model-task-requested.v1',
      ]);
      given.classify(message.data.messageId, 'refund'); // the same outcome arriving as a later event
      expect(decided.slice(2).map((event) => [event.eventId, event.data])).toEqual(
        given.decided.map((event) => [event.eventId, event.data]),
      );
    });

    it.each([
      [ORDER],
      ['退款'],
      [`订单号${ORDER}`],
      [`订单号${ORDER}，订单需要退款。`],
      [`退款订单，订单号${ORDER}`],
      ['I want a refund'],
    ])(
      'when the model offers another slot’s value or the request itself as the reason (%s), then it is rejected and the bot asks',
      (offered) => {
        const given = new Dialogue().start();
        const first = given.say(`你好，我要退款，订单号${ORDER}`);

        given.classify(first.data.messageId, 'refund').extracted(first.data.messageId, { reason: offered });

        expect(given.lastOf('conversation.slot-rejected.v1').data).toMatchObject({
          slot: 'reason',
          value: offered,
          reason: 'invalid-value',
        });
        expect(given.lastOf('conversation.bot-message-sent.v1').data).toMatchObject({ slot: 'reason' });
        expect(contextOf(given.state).slots['reason']).toBeUndefined();
      },
    );

    it.each([['买错尺码了'], ['我要退款，因为买错尺码了'], ['the zip broke after a day']])(
      'when the model offers a reason the customer gave (%s), then the slot is filled',
      (offered) => {
        const given = new Dialogue().start();
        const first = given.say(`我要退款，订单号${ORDER}，${offered}`);

        given.classify(first.data.messageId, 'refund').extracted(first.data.messageId, { reason: offered });

        expect(given.lastOf('conversation.slot-filled.v1').data).toMatchObject({
          slot: 'reason',
          value: offered,
          source: 'model',
        });
      },
    );

    it('when the intent has slots, then the patterns fill what the text holds and the model is asked for free text', () => {
      const given = new Dialogue().start();
      const message = given.say(`我要退款，订单号${ORDER}`);

      given.classify(message.data.messageId, 'refund');

      expect(given.decidedTypes()).toEqual([
        'conversation.intent-resolved.v1',
        'conversation.slot-filled.v1',
        'conversation.model-task-requested.v1',
      ]);
      expect(given.lastOf('conversation.slot-filled.v1').data).toMatchObject({
        slot: 'order_id',
        value: ORDER,
        source: 'pattern',
      });
      expect(given.lastOf('conversation.model-task-requested.v1').data.task).toEqual({
        kind: 'extract-slots',
        text: `我要退款，订单号${ORDER}`,
        intent: 'refund',
        slots: [{ name: 'reason', type: 'text', description: expect.any(String) }],
        referenceTime: message.occurredAt,
        locale: 'zh-CN',
      });
      expect(toStateAt(given.state)).toMatchObject({
        intent: { name: 'refund', label: 'refund', path: 'fast' },
        slots: { order_id: { value: ORDER } },
      });
    });

    it('when a required slot is still missing, then the bot asks with the tenant template, without waiting for knowledge', () => {
      const { given } = askedForReason();

      expect(given.decidedTypes()).toEqual(['conversation.bot-message-sent.v1']);
      expect(given.lastOf('conversation.bot-message-sent.v1').data).toMatchObject({
        template: 'ask_reason',
        slot: 'reason',
        text: '请问退款的原因是什么？',
      });
      expect(statusOf(given.state)).toBe('collecting');
      expect(contextOf(given.state).awaitingSlot).toBe('reason');
    });

    it('when the customer answers the question, then classification and extraction go in one hop and the request stays', () => {
      const { given } = askedForReason();

      const answer = given.say('买错尺码了');

      expect(
        given.decided.map(
          (event) => event.type === 'conversation.model-task-requested.v1' && event.data.task.kind,
        ),
      ).toEqual(['classify-intent', 'extract-slots']);
      given.classify(answer.data.messageId, 'other');
      expect(given.lastOf('conversation.intent-resolved.v1').data).toMatchObject({
        intent: 'refund',
        label: 'other',
        failed: false,
      });
      given.extracted(answer.data.messageId, { reason: '买错尺码了' });
      expect(given.decidedTypes()).toEqual(['conversation.slot-filled.v1']);
      expect(contextOf(given.state).awaitingSlot).toBeNull();
    });

    it('then the reply waits for the knowledge, and its prompt cites it with the slots', () => {
      const { given } = askedForReason();
      const answer = given.say('买错尺码了');
      given
        .classify(answer.data.messageId, 'other')
        .extracted(answer.data.messageId, { reason: '买错尺码了' });

      given.knowledge(answer.data.messageId);

      expect(given.decidedTypes()).toEqual(['conversation.reply-requested.v1']);
      const [system] = given.lastOf('conversation.reply-requested.v1').data.prompt;
      expect(system?.content).toContain(`[1] 退款时效: ${KNOWLEDGE[0]?.text}`);
      expect(system?.content).toContain(`order_id: ${ORDER}; reason: 买错尺码了`);
    });

    it('when knowledge never comes, then the wait timer lets the turn go on without it', () => {
      const given = new Dialogue().start();
      const message = given.say('hello');
      given.classify(message.data.messageId, 'greeting');
      expect(given.decidedTypes()).toEqual(['conversation.intent-resolved.v1']);

      const timer = knowledgeWaitTimer(message.data.messageId, 3000);
      const [expired] = decideTimerFired(given.state, timer);
      if (!expired) throw new Error('no event');
      given.append(expired);

      expect(expired.type).toBe('conversation.knowledge-wait-expired.v1');
      expect(given.decidedTypes()).toEqual(['conversation.reply-requested.v1']);
      expect(decideTimerFired(given.state, timer)).toEqual([]);
    });

    it('when knowledge comes first, then the wait timer appends nothing', () => {
      const given = new Dialogue().start();
      const message = given.say('hello');
      given.knowledge(message.data.messageId);

      expect(decideTimerFired(given.state, knowledgeWaitTimer(message.data.messageId, 3000))).toEqual([]);
    });

    it('when a later message gives another order number, then the slot is corrected', () => {
      const { given } = askedForReason();
      const next = given.say('不好意思，订单号是E20261130999999');
      given.classify(next.data.messageId, 'refund');

      expect(given.lastOf('conversation.slot-corrected.v1').data).toMatchObject({
        slot: 'order_id',
        value: 'E20261130999999',
        previousValue: ORDER,
      });
      expect(contextOf(given.state).slots.order_id?.value).toBe('E20261130999999');
    });

    it('when the model offers an invalid value, then the slot is rejected and stays empty', () => {
      const given = new Dialogue().start();
      const message = given.say('where is my order?');
      given.classify(message.data.messageId, 'order_status');
      expect(given.decidedTypes()).toEqual([
        'conversation.intent-resolved.v1',
        'conversation.bot-message-sent.v1',
      ]);
      const reply = given.say('it is 12345');
      given.classify(reply.data.messageId, 'order_status');

      // order_id is not free text: no model task; the patterns find nothing, so the question is asked again.
      expect(given.decidedTypes()).toEqual([
        'conversation.intent-resolved.v1',
        'conversation.bot-message-sent.v1',
      ]);
    });

    it('when the extract-slots result fails its validator, then a slot-rejected event records it', () => {
      const policy = {
        ...TURN_POLICY,
        intents: TURN_POLICY.intents.map((intent) =>
          intent.name === 'refund'
            ? {
                ...intent,
                slots: intent.slots.map((slot) => ({
                  ...slot,
                  type: slot.name === 'reason' ? ('date' as const) : slot.type,
                })),
              }
            : intent,
        ),
      };
      const given = new Dialogue({
        ...policy,
        intents: policy.intents.map((i) =>
          i.name === 'refund' ? { ...i, slots: [{ ...i.slots[1]!, type: 'text' as const }] } : i,
        ),
      }).start();
      const message = given.say('refund please');
      given.classify(message.data.messageId, 'refund');
      given.extracted(message.data.messageId, { reason: '   ' });

      expect(given.decidedTypes()).toEqual([
        'conversation.slot-rejected.v1',
        'conversation.bot-message-sent.v1',
      ]);
      expect(given.lastOf('conversation.slot-rejected.v1').data).toMatchObject({
        slot: 'reason',
        reason: 'invalid-format',
        source: 'model',
      });
      expect(contextOf(given.state).slots.reason).toBeUndefined();
    });

    it('when classification fails, then the turn goes on as `other` by the fallback path and counts as failed', () => {
      const given = new Dialogue().start();
      const message = given.say('asdfgh');
      given.classifyFailed(message.data.messageId);

      expect(given.lastOf('conversation.intent-resolved.v1').data).toEqual({
        messageId: message.data.messageId,
        intent: 'other',
        label: null,
        confidence: 0,
        path: 'fallback',
        failed: true,
      });
      expect(contextOf(given.state).failedTurns).toBe(1);
    });
  });

  describe('handoff', () => {
    it('when the customer asks for a person, then a notice and the handoff are appended and the bot falls silent', () => {
      const { given } = askedForReason();
      const ask = given.say('转人工');
      given.classify(ask.data.messageId, 'human_agent');

      expect(given.decidedTypes()).toEqual([
        'conversation.intent-resolved.v1',
        'conversation.bot-message-sent.v1',
        'conversation.handed-off.v1',
      ]);
      expect(given.lastOf('conversation.bot-message-sent.v1').data.text).toBe(
        '好的，正在为您转接人工客服，请稍候。',
      );
      expect(statusOf(given.state)).toBe('handed-off');
      expect(toStateAt(given.state).handoff).toEqual({
        reason: 'customer-request',
        intent: 'human_agent',
        sinceSequence: given.events.length,
      });

      const more = given.say('人呢？');
      given.knowledge(more.data.messageId);
      expect(given.decided).toEqual([]);
      expect(contextOf(given.state).transcript.at(-1)).toMatchObject({ role: 'customer', text: '人呢？' });
    });

    it('when the customer complains, then it is handed off as a complaint', () => {
      const given = new Dialogue().start('en');
      const message = given.say('this is unacceptable');
      given.classify(message.data.messageId, 'complaint');

      expect(given.lastOf('conversation.handed-off.v1').data.reason).toBe('complaint');
      expect(given.lastOf('conversation.bot-message-sent.v1').data.text).toMatch(/human agent/);
    });

    it('after N failed turns in a row, then it is handed off', () => {
      const given = new Dialogue().start();
      for (let turn = 1; turn <= 3; turn++) {
        const message = given.say(`??? ${turn}`);
        given.classify(message.data.messageId, 'other').knowledge(message.data.messageId);
        const { data: reply } = given.lastOf('conversation.reply-requested.v1');
        if (turn < 3) given.stream.replyCompleted(reply.turnId, 'Sorry?');
      }

      expect(statusOf(given.state)).toBe('handed-off');
      expect(given.lastOf('conversation.handed-off.v1').data.reason).toBe('failed-turns');
    });

    it('a successful turn resets the count of failed turns', () => {
      const given = new Dialogue().start();
      const message = given.say('???');
      given.classify(message.data.messageId, 'other');
      const next = given.say('hello');
      given.classify(next.data.messageId, 'greeting');

      expect(contextOf(given.state).failedTurns).toBe(0);
    });

    it('an agent writes while handed off, and returns the conversation to the bot', () => {
      const given = new Dialogue().start();
      const ask = given.say('转人工');
      given.classify(ask.data.messageId, 'human_agent');

      given.append(
        decide(
          {
            type: 'send-agent-message',
            eventId: fixtureId('d', 1),
            messageId: fixtureId('f', 1),
            agentId: 'wang',
            text: '您好，我是小王',
          },
          given.state,
        )[0]!,
      );
      expect(contextOf(given.state).transcript.at(-1)).toMatchObject({
        role: 'agent',
        text: '您好，我是小王',
      });
      given.append(
        decide({ type: 'return-to-bot', eventId: fixtureId('d', 2), agentId: 'wang' }, given.state)[0]!,
      );

      expect(statusOf(given.state)).toBe('collecting');
      expect(toStateAt(given.state).handoff).toBeNull();
      const back = given.say('谢谢');
      expect(given.decidedTypes()).toEqual(['conversation.model-task-requested.v1']);
      expect(back.data.text).toBe('谢谢');
    });

    it.each([
      ['not handed off', 'conversation-not-handed-off'],
      ['closed', 'conversation-closed'],
    ])('an agent message to a conversation that is %s is refused', (_label, code) => {
      const given = new Dialogue().start();
      if (code === 'conversation-closed') given.stream.closed();
      const command = {
        type: 'send-agent-message' as const,
        eventId: fixtureId('d', 1),
        messageId: fixtureId('f', 1),
        agentId: 'wang',
        text: 'hi',
      };

      expect(() => decide(command, given.state)).toThrow(AppError);
      expect(() => decide(command, given.state)).toThrow(expect.objectContaining({ code }));
      expect(() =>
        decide({ type: 'return-to-bot', eventId: fixtureId('d', 2), agentId: 'wang' }, given.state),
      ).toThrow(expect.objectContaining({ code }));
    });
  });

  describe('inactivity', () => {
    it('when the timer of the last activity fires, then the conversation is archived and refuses messages', () => {
      const given = new Dialogue().start();
      const message = given.say('hello');
      const timer = inactivityTimer(given.stream.conversationId, message.sequence, 300);

      const [timedOut] = decideTimerFired(given.state, timer);
      if (!timedOut) throw new Error('no event');
      given.append(timedOut);

      expect(timedOut.eventId).toBe(DerivedIds.timerFired(timer.timerId));
      expect(statusOf(given.state)).toBe('archived');
      expect(toStateAt(given.state).closedReason).toBe('inactivity-timeout');
      expect(() =>
        decide(
          { type: 'receive-message', eventId: fixtureId('d', 5), messageId: fixtureId('f', 5), text: 'hi' },
          given.state,
        ),
      ).toThrow(expect.objectContaining({ code: 'conversation-closed' }));
      expect(decideTimerFired(given.state, timer)).toEqual([]);
    });

    it('when the customer spoke after the timer was set, then it appends nothing', () => {
      const given = new Dialogue().start();
      const timer = inactivityTimer(given.stream.conversationId, 1, 300);
      given.say('still here');

      expect(decideTimerFired(given.state, timer)).toEqual([]);
    });

    it('a stale timeout folded anyway changes nothing', () => {
      const given = new Dialogue().start();
      given.say('still here');
      const stale = given.stream.event('conversation.inactivity-timed-out.v1', {
        timerId: fixtureId('f', 9),
        lastActivitySequence: 1,
        timeoutSeconds: 300,
      });

      expect(statusOf(given.state)).toBe('answering');
      expect(stale.sequence).toBe(given.state.version);
    });
  });

  describe('history compression', () => {
    function longConversation(turns: number) {
      const given = new Dialogue().start('en');
      for (let turn = 1; turn <= turns; turn++) {
        const message = given.say(`question ${turn}`);
        given.classify(message.data.messageId, 'product_question').knowledge(message.data.messageId, []);
        given.stream.replyCompleted(
          given.lastOf('conversation.reply-requested.v1').data.turnId,
          `answer ${turn}`,
        );
        given.react();
      }
      return given;
    }

    it('past 5 turns, then the older turns are sent to be summarised, once', () => {
      const given = longConversation(6);

      const tasks = given.events.filter(
        (event) =>
          event.type === 'conversation.model-task-requested.v1' && event.data.task.kind === 'summarize',
      );
      expect(tasks).toHaveLength(1);
      const task = tasks[0]?.type === 'conversation.model-task-requested.v1' ? tasks[0].data.task : null;
      expect(task).toMatchObject({ kind: 'summarize', previousSummary: null });
      expect(task?.kind === 'summarize' && task.transcript.map((entry) => entry.text)).toEqual([
        'question 1',
        'answer 1',
        'question 2',
        'answer 2',
        'question 3',
        'answer 3',
      ]);
    });

    it('then prompts use the summary and the turns after it; slots stay slots', () => {
      const given = longConversation(6);
      const task = given.events.find(
        (event) =>
          event.type === 'conversation.model-task-requested.v1' && event.data.task.kind === 'summarize',
      );
      if (task?.type !== 'conversation.model-task-requested.v1' || task.data.task.kind !== 'summarize') {
        throw new Error('expected the summarize task');
      }
      given.append({
        eventId: fixtureId('f', 20),
        type: 'conversation.model-task-completed.v1',
        data: {
          taskId: task.data.taskId,
          result: {
            kind: 'summarize',
            summary: 'Asked three product questions.',
            coversUpToSequence: task.data.task.coversUpToSequence,
          },
          model: 'qwen',
          timings: { totalMs: 900 },
        },
      });
      const message = given.say('question 7');
      given.classify(message.data.messageId, 'product_question').knowledge(message.data.messageId, []);

      const { prompt } = given.lastOf('conversation.reply-requested.v1').data;
      expect(prompt[0]?.content).toContain(
        'Summary of the earlier conversation: Asked three product questions.',
      );
      expect(prompt.slice(1).map((entry) => entry.content)).toEqual([
        'question 4',
        'answer 4',
        'question 5',
        'answer 5',
        'question 6',
        'answer 6',
        'question 7',
      ]);
      expect(toStateAt(given.state).summary?.text).toBe('Asked three product questions.');
    });
  });

  describe('out-of-place and unknown events', () => {
    it('are recorded and change nothing: a stray model result, an agent message while the bot talks, a return without handoff', () => {
      const given = new Dialogue().start();
      given.say('hello');
      const before = toStateAt(given.state);

      given.stream.event('conversation.model-task-completed.v1', {
        taskId: fixtureId('f', 77),
        result: { kind: 'classify-intent', label: 'refund', confidence: 1, path: 'llm', candidates: [] },
        model: 'x',
        timings: { totalMs: 1 },
      });
      given.stream.event('conversation.agent-message-sent.v1', {
        messageId: fixtureId('f', 78),
        agentId: 'a',
        text: 'hi',
      });
      given.stream.event('conversation.returned-to-bot.v1', { agentId: 'a' });
      given.stream.event('conversation.knowledge-retrieved.v1', {
        messageId: fixtureId('f', 79),
        query: 'x',
        results: [],
        degraded: { keyword: true, vector: true },
        timings: { totalMs: 1 },
      });

      expect({ ...toStateAt(given.state), at: before.at }).toEqual(before);
      expect(given.state.version).toBe(before.at + 4);
    });
  });

  describe('references', () => {
    it('are recorded with the start and shown in the state', () => {
      const events = decide(
        {
          type: 'start-conversation',
          eventId: fixtureId('d', 1),
          data: { channel: 'web', locale: 'zh-CN', labels: {}, configVersion: 0 },
          reference: 'acme-20261130-K7QX2M9P',
        },
        fold([]),
      );

      expect(events.map((event) => event.type)).toEqual([
        'conversation.started.v2',
        'conversation.reference-assigned.v1',
      ]);
      const given = new Dialogue();
      for (const event of events) given.stream.append(event);
      expect(toStateAt(given.state).reference).toBe('acme-20261130-K7QX2M9P');
    });
  });
});
