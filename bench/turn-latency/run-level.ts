/**
 * One benchmark level: N virtual users, each with its own conversation and WebSocket (through
 * @libs/client), send messages one after the other and wait for each reply; every event's arrival
 * time is kept so a turn can be taken apart afterwards.
 */
import {
  FrameTimeoutError,
  GatewayError,
  wallClock as now,
  type GatewayClient,
  type GatewaySocket,
  type ReceivedFrame,
  type TurnEnd,
} from '@libs/client';
import type { ConversationEvent, ConversationEventType, EventOfType, StateFrames } from '@contracts';
import { fmt, round } from './statistics';

export interface LevelOptions {
  timeoutMs: number;
  drainMs: number;
  closeConversations: boolean;
  /**
   * Appends the turn's id to each message, so a model server that logs the last user message
   * (bench/fixed-latency-model) can tell which turn a model call served.
   */
  tagMessages: boolean;
  /** How the bench's sockets ask for state frames: whole views (the default) or compact ones. */
  stateFrames: StateFrames;
}

// ---------------------------------------------------------------------------------------------------
// Messages: short, alternating English and Chinese, so model time stays bounded and both languages
// are in every level.

const MESSAGES = [
  { lang: 'en', text: 'Hi, where is my order? It has not arrived yet.' },
  { lang: 'zh', text: '你好，我的订单什么时候发货？' },
  { lang: 'en', text: 'How do I change my delivery address?' },
  { lang: 'zh', text: '请问怎么申请退款？' },
] as const;

function messageFor(user: number, turn: number): (typeof MESSAGES)[number] {
  // English and Chinese alternate across turns of one user and across users of one level.
  const languageIndex = (user + turn) % 2;
  const variant = Math.floor(turn / 2 + user / 2) % 2;
  return MESSAGES[languageIndex + 2 * variant] as (typeof MESSAGES)[number];
}

// ---------------------------------------------------------------------------------------------------
// One turn

export type Outcome = 'completed' | 'reply-failed' | 'timeout' | 'http-error' | 'ws-closed';

export interface TurnRecord {
  level: number;
  user: number;
  turn: number;
  conversationId: string;
  lang: string;
  text: string;
  outcome: Outcome;
  failure: string | null;
  startedAt: string;
  /** Milliseconds after the start of the POST (client clock). */
  postAcceptedMs: number | null;
  messageEventMs: number | null;
  requestedEventMs: number | null;
  firstChunkMs: number | null;
  endToEndMs: number | null;
  /** Model time from the completed event (inference service clock). */
  modelTotalMs: number | null;
  modelFirstTokenMs: number | null;
  engineMs: number | null;
  /** Stage estimates from the events' occurredAt (server clock, millisecond resolution). */
  stages: {
    /** POST start -> message-received appended. */
    ingestMs: number | null;
    /** message-received appended -> reply-requested appended (relay, Kafka, sessions). */
    sessionsMs: number | null;
    /** reply-requested appended -> model call started (relay, Kafka, inference pickup, stream load). */
    inferencePickupMs: number | null;
    /** completed appended -> its WebSocket frame here (relay, Kafka, gateway fan-out). */
    deliveryMs: number | null;
  };
  turnId: string | null;
  chunks: number;
  completionTokens: number | null;
  promptTokens: number | null;
  finishReason: string | null;
  /** For a timed-out turn: when its reply finally arrived (during the drain), and how it ended. */
  lateEndToEndMs: number | null;
  lateOutcome: 'completed' | 'reply-failed' | null;
  /** Epoch ms of the model call (completion's occurredAt minus totalMs, and occurredAt). */
  modelWindow: [number, number] | null;
  /** Epoch ms (client clock) just before the POST. */
  t0: number;
  /** The turn's events: id, type, sequence, ms after POST start of occurredAt and of arrival here. */
  timeline: { eventId: string; type: string; sequence: number; occurredMs: number; receivedMs: number }[];
}

async function runTurn(
  client: GatewayClient,
  socket: GatewaySocket,
  conversationId: string,
  meta: { level: number; user: number; turn: number; runId: string },
  options: LevelOptions,
  lateWaits: ((deadline: number) => Promise<void>)[],
): Promise<TurnRecord> {
  const message = messageFor(meta.user, meta.turn);
  const clientMessageId = `${meta.runId}-${meta.level}-${meta.user}-${meta.turn}`;
  const text = options.tagMessages ? `${message.text} #${clientMessageId}` : message.text;
  const record: TurnRecord = {
    level: meta.level,
    user: meta.user,
    turn: meta.turn,
    conversationId,
    lang: message.lang,
    text,
    outcome: 'timeout',
    failure: null,
    startedAt: '',
    postAcceptedMs: null,
    messageEventMs: null,
    requestedEventMs: null,
    firstChunkMs: null,
    endToEndMs: null,
    modelTotalMs: null,
    modelFirstTokenMs: null,
    engineMs: null,
    stages: { ingestMs: null, sessionsMs: null, inferencePickupMs: null, deliveryMs: null },
    turnId: null,
    chunks: 0,
    completionTokens: null,
    promptTokens: null,
    finishReason: null,
    lateEndToEndMs: null,
    lateOutcome: null,
    modelWindow: null,
    t0: 0,
    timeline: [],
  };
  const seenBefore = socket.received.length;
  const t0 = now();
  record.t0 = t0;
  record.startedAt = new Date(t0).toISOString();
  const deadline = t0 + options.timeoutMs;
  let messageId: string;
  try {
    const accepted = await client.sendMessage(conversationId, text, { clientMessageId });
    record.postAcceptedMs = now() - t0;
    messageId = accepted.messageId;
  } catch (error) {
    if (!(error instanceof GatewayError) && !(error instanceof TypeError)) throw error; // TypeError: fetch failed
    record.outcome = 'http-error';
    record.failure = error.message;
    return record;
  }

  const fresh = () => eventsOf(socket.received.slice(seenBefore));
  const requestedIn = (events: Received[]) =>
    events
      .filter(ofType('conversation.reply-requested.v1'))
      .find(({ event }) => event.data.inReplyTo.includes(messageId));
  const turnEnd = (): Arrived<TurnEnd> | null => {
    const events = fresh();
    const turnId = requestedIn(events)?.event.data.turnId;
    if (turnId === undefined) return null;
    const ends = events.filter(
      (received): received is Arrived<TurnEnd> =>
        received.event.type === 'conversation.reply-completed.v2' ||
        received.event.type === 'conversation.reply-failed.v1',
    );
    return ends.find(({ event }) => event.data.turnId === turnId) ?? null;
  };
  const end = await waitUntil(socket, turnEnd, deadline);

  // Whatever arrived for this turn, complete or not, goes into the record.
  const events = fresh();
  const messageEvent = events
    .filter(ofType('conversation.message-received.v1'))
    .find(({ event }) => event.data.messageId === messageId);
  const requested = requestedIn(events);
  const turnId = requested?.event.data.turnId ?? null;
  const chunks = events
    .filter(ofType('conversation.reply-chunk-generated.v1'))
    .filter(({ event }) => event.data.turnId === turnId);
  record.turnId = turnId;
  record.chunks = chunks.length;
  record.messageEventMs = messageEvent ? messageEvent.at - t0 : null;
  record.requestedEventMs = requested ? requested.at - t0 : null;
  record.firstChunkMs = chunks[0] ? chunks[0].at - t0 : null;
  // The message, what was understood and retrieved about it (tasks and knowledge name the message), and
  // the turn it led to.
  const tasksOfMessage = new Set(
    events
      .filter(ofType('conversation.model-task-requested.v1'))
      .filter(({ event }) => event.data.messageId === messageId)
      .map(({ event }) => event.data.taskId),
  );
  const ofThisTurn = (event: ConversationEvent): boolean =>
    event === messageEvent?.event ||
    (turnId !== null && turnIdOf(event) === turnId) ||
    ('messageId' in event.data && event.data.messageId === messageId) ||
    (event.type === 'conversation.model-task-completed.v1' && tasksOfMessage.has(event.data.taskId));
  record.timeline = events
    .filter(({ event }) => ofThisTurn(event))
    .map(({ event, at }) => ({
      eventId: event.eventId,
      type: event.type,
      sequence: event.sequence,
      occurredMs: round(Date.parse(event.occurredAt) - t0),
      receivedMs: round(at - t0),
    }));

  const occurred = (received: Received | undefined) =>
    received ? Date.parse(received.event.occurredAt) : null;
  const messageAt = occurred(messageEvent);
  const requestedAt = occurred(requested);
  record.stages.ingestMs = messageAt !== null ? messageAt - t0 : null;
  record.stages.sessionsMs = messageAt !== null && requestedAt !== null ? requestedAt - messageAt : null;

  if (end === null) {
    record.outcome = socket.endedWith !== null ? 'ws-closed' : 'timeout';
    if (record.outcome === 'timeout') {
      lateWaits.push(async (drainDeadline) => {
        const late = await waitUntil(socket, turnEnd, drainDeadline);
        if (!late) return;
        record.lateEndToEndMs = round(late.at - t0);
        record.lateOutcome =
          late.event.type === 'conversation.reply-completed.v2' ? 'completed' : 'reply-failed';
      });
    }
    record.failure =
      socket.endedWith?.message ??
      `no reply within ${options.timeoutMs} ms (last event seen: ${events.at(-1)?.event.type ?? 'none'})`;
    return record;
  }
  record.endToEndMs = end.at - t0;
  const completedAt = Date.parse(end.event.occurredAt);
  record.stages.deliveryMs = end.at - completedAt;
  if (end.event.type === 'conversation.reply-failed.v1') {
    record.outcome = 'reply-failed';
    record.failure = `${end.event.data.code}: ${end.event.data.message}`;
    return record;
  }
  const { timings, usage } = end.event.data;
  record.outcome = 'completed';
  record.modelTotalMs = timings.totalMs;
  record.modelFirstTokenMs = timings.firstTokenMs;
  record.engineMs = record.endToEndMs - timings.totalMs;
  record.completionTokens = usage.completionTokens;
  record.promptTokens = usage.promptTokens;
  record.finishReason = end.event.data.finishReason;
  record.modelWindow = [round(completedAt - timings.totalMs), completedAt];
  if (requestedAt !== null) {
    // The model call ended just before the completion was appended; it started totalMs earlier.
    const modelStartedAt = completedAt - timings.totalMs;
    record.stages.inferencePickupMs = modelStartedAt - requestedAt;
  }
  return record;
}

// ---------------------------------------------------------------------------------------------------
// One level

interface VirtualUser {
  index: number;
  conversationId: string;
  socket: GatewaySocket;
  openMs: number;
}

export interface LevelResult {
  concurrency: number;
  turnsPerUser: number;
  setupFailures: string[];
  startedAt: string;
  wallMs: number;
  /** Time spent after the level waiting for timed-out turns (not part of wallMs). */
  drainMs: number;
  turns: TurnRecord[];
  /** Turns not attempted because an earlier turn of the same user timed out or failed at the transport. */
  skippedTurns: number;
  wsFrames: { event: number; state: number; 'state-compact': number; error: number };
  /** UTF-8 bytes of every frame the level's sockets received (absent in results from before it was counted). */
  wsBytes?: number;
  conversationOpenMs: number[];
}

async function openUser(
  client: GatewayClient,
  index: number,
  runId: string,
  timeoutMs: number,
  stateFrames: StateFrames,
): Promise<VirtualUser> {
  const started = now();
  const conversation = await client.startConversation({
    channel: 'web',
    labels: { source: 'bench-turn-latency', run: runId },
  });
  const openMs = now() - started;
  const socket = await client.connect({ timeoutMs });
  await socket.subscribe(conversation.conversationId, { timeoutMs, stateFrames });
  return { index, conversationId: conversation.conversationId, socket, openMs };
}

export async function runLevel(
  client: GatewayClient,
  concurrency: number,
  turnsPerUser: number,
  options: LevelOptions,
  runId: string,
): Promise<LevelResult> {
  const setupFailures: string[] = [];
  const opened = await Promise.allSettled(
    Array.from({ length: concurrency }, (_, index) =>
      openUser(client, index, runId, 30_000, options.stateFrames),
    ),
  );
  const users: VirtualUser[] = [];
  for (const result of opened) {
    if (result.status === 'fulfilled') users.push(result.value);
    else setupFailures.push(result.reason instanceof Error ? result.reason.message : String(result.reason));
  }

  // Everyone is connected and subscribed; all users start their first turn together.
  const started = now();
  const turns: TurnRecord[] = [];
  const lateWaits: ((deadline: number) => Promise<void>)[] = [];
  let skippedTurns = 0;
  await Promise.all(
    users.map(async (user) => {
      for (let turn = 0; turn < turnsPerUser; turn++) {
        const record = await runTurn(
          client,
          user.socket,
          user.conversationId,
          { level: concurrency, user: user.index, turn, runId },
          options,
          lateWaits,
        );
        turns.push(record);
        progress(record);
        // A turn still open (timeout) would make the next message part of it: stop this user.
        if (
          record.outcome === 'timeout' ||
          record.outcome === 'ws-closed' ||
          record.outcome === 'http-error'
        ) {
          skippedTurns += turnsPerUser - turn - 1;
          break;
        }
      }
    }),
  );
  const wallMs = now() - started;

  // Timed-out turns are still queued or generating: wait for them, so the next level starts clean.
  let drainMs = 0;
  if (lateWaits.length > 0 && options.drainMs > 0) {
    process.stderr.write(`  draining ${lateWaits.length} timed-out turn(s), up to ${options.drainMs} ms\n`);
    const drainStarted = now();
    await Promise.all(lateWaits.map((wait) => wait(drainStarted + options.drainMs)));
    drainMs = now() - drainStarted;
  }

  const wsFrames = { event: 0, state: 0, 'state-compact': 0, error: 0 };
  let wsBytes = 0;
  for (const user of users) {
    for (const { frame } of user.socket.received) {
      if (frame.type in wsFrames) wsFrames[frame.type as keyof typeof wsFrames]++;
    }
    wsBytes += user.socket.bytesReceived;
    user.socket.close();
  }
  if (options.closeConversations) {
    await Promise.allSettled(users.map((user) => client.closeConversation(user.conversationId, 'resolved')));
  }
  turns.sort((a, b) => a.user - b.user || a.turn - b.turn);
  return {
    concurrency,
    turnsPerUser,
    setupFailures,
    startedAt: new Date(started).toISOString(),
    wallMs,
    drainMs: round(drainMs),
    turns,
    skippedTurns: skippedTurns + setupFailures.length * turnsPerUser,
    wsFrames,
    wsBytes,
    conversationOpenMs: users.map((user) => round(user.openMs)),
  };
}

export function progress(record: TurnRecord): void {
  const detail =
    record.outcome === 'completed'
      ? `e2e ${fmt(record.endToEndMs)} ms, model ${fmt(record.modelTotalMs)} ms, engine ${fmt(record.engineMs)} ms`
      : (record.failure ?? '');
  process.stderr.write(
    `  [N=${record.level}] user ${record.user} turn ${record.turn} ${record.outcome}: ${detail}\n`,
  );
}

interface Arrived<T extends ConversationEvent> {
  event: T;
  at: number;
}

type Received = Arrived<ConversationEvent>;

function ofType<T extends ConversationEventType>(type: T) {
  return (received: Received): received is Arrived<EventOfType<T>> => received.event.type === type;
}

function turnIdOf(event: ConversationEvent): string | null {
  return 'turnId' in event.data ? event.data.turnId : null;
}

function eventsOf(received: ReceivedFrame[]): Received[] {
  const events: Received[] = [];
  for (const { frame, receivedAt } of received) {
    if (frame.type === 'event') events.push({ event: frame.event, at: receivedAt });
  }
  return events;
}

/** The first value of `check` other than null, evaluated on each frame; null at the deadline or when the socket ends. */
async function waitUntil<T>(
  socket: GatewaySocket,
  check: () => T | null,
  deadline: number,
): Promise<T | null> {
  try {
    return await socket.until(() => check() ?? undefined, { timeoutMs: Math.max(0, deadline - now()) });
  } catch (error) {
    if (error instanceof FrameTimeoutError || socket.endedWith !== null) return null;
    throw error;
  }
}
