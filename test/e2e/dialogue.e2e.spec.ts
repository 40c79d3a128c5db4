/**
 * The bot as a customer-service agent, end to end on the real stack (the five services, PostgreSQL,
 * Kafka, the embeddings server and llama-server): a Chinese refund conversation fills the order number
 * from a message, asks for the missing reason, hands off on "转人工", and a human agent's message reaches
 * the customer over the WebSocket while the bot stays silent; idle conversations are archived by their
 * timeout event, also when sessions was killed and restarted while the timer was pending.
 */
import { randomUUID } from 'node:crypto';
import { GatewayClient, type GatewaySocket } from '@libs/client';
import { PostgresEventStore, TenantSettingsStreams } from '@libs/event-store';
import type { ConversationEvent } from '@contracts';
import { E2eStack, ServiceProcesses, createTenantWithKey, waitFor, type TestDatabase } from '@test/support';

jest.setTimeout(300_000);

const basePort = Number(process.env.E2E_BASE_PORT ?? 4510);
const ORDER = 'E20261130123456';
const IDLE_SECONDS = 30; // the shortest inactivity timeout a tenant may set
let stack: E2eStack;
let db: TestDatabase;
let services: ServiceProcesses;
let acme: GatewayClient;
let idle: GatewayClient; // a tenant with a short inactivity timeout

beforeAll(async () => {
  stack = await E2eStack.create('dialogue', ['LLM_BASE_URL', 'EMBEDDINGS_BASE_URL']);
  db = stack.db;
  const acmeKey = await createTenantWithKey(db.dataSource, 'acme');
  // The embeddings fast path decides every intent here: the tiny local LLM (SmolLM2-135M) is a poor
  // classifier (macro-F1 0.25 in bench/RESULTS.md), and this suite is about what the machine does with an
  // intent, not about the model. The default intents and their examples are kept.
  await new TenantSettingsStreams(new PostgresEventStore(db.dataSource)).replace('acme', randomUUID(), {
    fastPathMinConfidence: 0,
  });
  const idleKey = await createTenantWithKey(db.dataSource, 'quiet');
  await new TenantSettingsStreams(new PostgresEventStore(db.dataSource)).replace('quiet', randomUUID(), {
    inactivityTimeoutSeconds: IDLE_SECONDS,
  });
  services = stack.services(basePort, {
    REPLY_MAX_TOKENS: '120',
    LLM_TEMPERATURE: '0',
    // The first message embeds the tenant's examples too (the intent index); on a busy machine that can
    // take longer than the default 500 ms, and this suite checks that sessions classifies it itself.
    LOCAL_CLASSIFY_TIMEOUT_MS: '10000',
  });
  await services.startAll();
  acme = new GatewayClient(services.url('gateway'), acmeKey);
  idle = new GatewayClient(services.url('gateway'), idleKey);
});

afterAll(async () => {
  await stack?.stop();
});

const after = (events: ConversationEvent[], sequence: number) =>
  events.filter((event) => event.sequence > sequence);

/** Sessions has handled the message once its knowledge-wait timer fired (it is scheduled by the handler). */
async function handledBySessions(conversationId: string, sequence: number): Promise<void> {
  await waitFor(
    `sessions handled event ${sequence}`,
    async () => {
      const rows: { fired: boolean }[] = await db.dataSource.query(
        `SELECT fired_at IS NOT NULL AS fired FROM sessions_timers
          WHERE conversation_id = $1 AND kind = 'knowledge-wait' AND causation_id =
                (SELECT event_id FROM events WHERE stream_id = $2 AND sequence = $3)`,
        [conversationId, conversationId, sequence],
      );
      return rows[0]?.fired === true;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

describe('a Chinese refund conversation', () => {
  let conversationId: string;
  let socket: GatewaySocket;

  afterAll(() => socket?.close());

  it('fills the order number from the message and asks for the missing reason with the template', async () => {
    const view = await acme.startConversation({ channel: 'web', locale: 'zh-CN' });
    conversationId = view.conversationId;
    expect(view.reference).toMatch(/^acme-\d{8}-[2-9A-HJKMNP-TV-Z]{8}$/);
    socket = await acme.connect();
    await socket.subscribe(conversationId);

    const { messageId } = await acme.sendMessage(conversationId, `你好，我要退款，订单号${ORDER}`);

    const asked = await socket.waitForEvent(
      'conversation.bot-message-sent.v1',
      (event) => event.data.inReplyTo.includes(messageId),
      {
        timeoutMs: 180_000,
      },
    );
    expect(asked.data).toMatchObject({
      template: 'ask_reason',
      slot: 'reason',
      text: '请问退款的原因是什么？',
    });
    const state = await acme.getState(conversationId);
    expect(state).toMatchObject({
      status: 'collecting',
      intent: { name: 'refund' },
      slots: { order_id: { value: ORDER, source: 'pattern', messageId } },
      awaitingSlot: 'reason',
      handoff: null,
    });
    const events = await acme.allEvents(conversationId);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining([
        'conversation.model-task-requested.v1',
        'conversation.model-task-completed.v1',
        'conversation.intent-resolved.v1',
        'conversation.slot-filled.v1',
        'conversation.bot-message-sent.v1',
      ]),
    );
    expect(events.filter((event) => event.type === 'conversation.reply-requested.v1')).toHaveLength(0);
    // Sessions classified the message itself, in the step that asked for it: the outcome is caused by
    // the message and stored right after the request (no round trip through inference).
    const message = events.find(
      (event) => event.type === 'conversation.message-received.v1' && event.data.messageId === messageId,
    );
    const requested = events.find(
      (event) =>
        event.type === 'conversation.model-task-requested.v1' && event.data.task.kind === 'classify-intent',
    );
    const completed = events.find(
      (event) =>
        event.type === 'conversation.model-task-completed.v1' &&
        requested?.type === 'conversation.model-task-requested.v1' &&
        event.data.taskId === requested.data.taskId,
    );
    expect(completed).toMatchObject({
      sequence: (requested?.sequence ?? 0) + 1,
      causationId: message?.eventId,
      data: { result: { kind: 'classify-intent', label: 'refund', path: 'fast' } },
    });
    const metrics = await (await fetch(`${services.url('sessions')}/metrics`)).text();
    expect(metrics).toMatch(
      /^convo_local_intent_classifications_total\{outcome="decided",service="sessions"\} [1-9]/m,
    );
  });

  it('hands off on "转人工" with the notice, and the state at each event says so', async () => {
    const { messageId, sequence } = await acme.sendMessage(conversationId, '转人工');

    const handedOff = await socket.waitForEvent('conversation.handed-off.v1', () => true, {
      conversationId,
      timeoutMs: 180_000,
    });
    expect(handedOff.data).toEqual({
      reason: 'customer-request',
      intent: 'human_agent',
      inReplyTo: [messageId],
    });
    const notice = socket.eventsOfType('conversation.bot-message-sent.v1', conversationId).at(-1);
    expect(notice?.data).toMatchObject({ template: 'handoff_notice', inReplyTo: [messageId] });

    expect((await acme.getState(conversationId, sequence)).status).toBe('answering');
    expect(await acme.getState(conversationId, handedOff.sequence)).toMatchObject({
      status: 'handed-off',
      handoff: { reason: 'customer-request', intent: 'human_agent', sinceSequence: handedOff.sequence },
      slots: { order_id: { value: ORDER } },
    });
  });

  it('an agent message reaches the customer over the WebSocket while the bot stays silent', async () => {
    const handedOffAt = socket.eventsOfType('conversation.handed-off.v1', conversationId)[0]?.sequence ?? 0;
    const { sequence } = await acme.sendMessage(conversationId, '人呢？快点');
    await handledBySessions(conversationId, sequence);

    const sent = await acme.sendAgentMessage(
      conversationId,
      'agent-wang',
      '您好，我是客服小王，马上为您办理退款。',
    );
    const received = await socket.waitForEvent(
      'conversation.agent-message-sent.v1',
      (event) => event.data.messageId === sent.messageId,
    );
    expect(received.data).toEqual({
      messageId: sent.messageId,
      agentId: 'agent-wang',
      text: '您好，我是客服小王，马上为您办理退款。',
    });

    // While handed off the bot neither starts model work nor speaks. A model task it asked for before the
    // handoff may still complete (the model is slow), which changes nothing the customer sees.
    const since = after(await acme.allEvents(conversationId), handedOffAt)
      .map((event) => event.type)
      .filter(
        (type) =>
          type !== 'conversation.model-task-completed.v1' &&
          type !== 'conversation.model-task-failed.v1' &&
          // Retrieval answers every customer message, handed off or not; that is not the bot speaking.
          type !== 'conversation.knowledge-retrieved.v1',
      );
    expect(since).toEqual(['conversation.message-received.v1', 'conversation.agent-message-sent.v1']);
    const view = await acme.getConversation(conversationId);
    expect(view.transcript.slice(-2).map((entry) => entry.role)).toEqual(['customer', 'agent']);
  });

  it('is found by its reference, typed in lower case', async () => {
    const { reference } = await acme.getConversation(conversationId);
    const typed = (reference ?? '').replace(/-([^-]{8})$/, (part) => part.toLowerCase());

    expect(await acme.findByReference(typed)).toEqual({
      conversations: [{ conversationId, reference, startedAt: expect.any(String) }],
    });
  });
});

describe('inactivity', () => {
  it('archives idle conversations by their timeout event, also across a sessions restart while pending', async () => {
    const quiet = await idle.startConversation({ channel: 'web', locale: 'en' });
    const spoke = await idle.startConversation({ channel: 'web', locale: 'en' });
    const { sequence } = await idle.sendMessage(spoke.conversationId, 'Hello?');
    // Both timers are stored rows before sessions dies.
    await waitFor(
      'inactivity timers scheduled',
      async () => {
        const rows: { n: number }[] = await db.dataSource.query(
          `SELECT count(*)::int AS n FROM sessions_timers WHERE kind = 'inactivity' AND fired_at IS NULL
             AND conversation_id = ANY($1::uuid[])`,
          [[quiet.conversationId, spoke.conversationId]],
        );
        return (rows[0]?.n ?? 0) >= 3;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await services.kill('sessions');
    services.start('sessions');
    await services.waitReady('sessions');

    for (const [conversationId, lastActivity] of [
      [quiet.conversationId, 1],
      [spoke.conversationId, sequence],
    ] as const) {
      await waitFor(
        `conversation ${conversationId} archived`,
        async () => (await idle.getConversation(conversationId)).status === 'archived',
        { timeoutMs: (IDLE_SECONDS + 90) * 1000, intervalMs: 500 },
      );
      const events = await idle.allEvents(conversationId);
      const timeouts = events.filter((event) => event.type === 'conversation.inactivity-timed-out.v1');
      expect(timeouts).toHaveLength(1);
      expect(timeouts[0]?.data).toMatchObject({
        lastActivitySequence: lastActivity,
        timeoutSeconds: IDLE_SECONDS,
      });
      expect(await idle.getState(conversationId)).toMatchObject({
        status: 'archived',
        closedReason: 'inactivity-timeout',
      });
    }
    await expect(idle.sendMessage(quiet.conversationId, 'back again')).rejects.toMatchObject({
      status: 409,
      code: 'conversation-closed',
    });
  });
});
