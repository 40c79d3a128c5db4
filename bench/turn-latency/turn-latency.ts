/**
 * Turn-latency benchmark: N virtual users, each with its own conversation and WebSocket, send
 * customer messages through the public API and wait for the reply, for each N of --concurrency.
 *
 * One turn is measured from just before `POST /v1/conversations/{id}/messages` to the WebSocket
 * `event` frame carrying `conversation.reply-completed.v1` (or `reply-failed.v1`) for that message.
 * The model's own time (`data.timings.totalMs`, measured by the inference service) is subtracted to
 * get the engine share: what the gateway, event store, outbox relay, Kafka, sessions and inference
 * plumbing add on top of the model.
 *
 *   npm run build && node dist/bench/turn-latency/turn-latency.js --concurrency 1,10,50 \
 *     --api-key-file /tmp/demo-key.json
 *
 * Loopback only: the base URL must point at 127.0.0.1, ::1 or localhost.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket, type RawData } from 'ws';

// ---------------------------------------------------------------------------------------------------
// Options

interface Options {
  baseUrl: string;
  apiKey: string;
  concurrency: number[];
  /** Turns each virtual user sends, per level (one value applies to all levels). */
  turnsPerUser: number[];
  timeoutMs: number;
  warmupTurns: number;
  drainMs: number;
  out: string;
  closeConversations: boolean;
}

const USAGE = `Usage: node dist/bench/turn-latency/turn-latency.js [options]

  --base-url URL          gateway base URL, loopback only       (default http://127.0.0.1:3000)
  --api-key KEY           tenant API key (or BENCH_API_KEY in the environment)
  --api-key-file PATH     JSON file with an "apiKey" field       (e.g. /tmp/demo-key.json)
  --concurrency LIST      virtual users per level, comma list    (default 1,10,50)
  --turns-per-user LIST   turns per user; one value, or one per level  (default 2)
  --timeout-ms MS         per-turn deadline, POST to completion  (default 180000)
  --warmup-turns N        unrecorded turns before the first level (default 1)
  --drain-ms MS           after a level, wait this long for timed-out turns to end, so the
                          next level starts on an idle engine        (default 600000)
  --out PATH              raw JSON output  (default bench/out/turn-latency-<timestamp>.json)
  --no-close              leave the benchmark's conversations open
  --report PATH           print the tables of an earlier raw JSON result again; runs nothing
  --help
`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'base-url': { type: 'string', default: 'http://127.0.0.1:3000' },
      'api-key': { type: 'string' },
      'api-key-file': { type: 'string' },
      concurrency: { type: 'string', default: '1,10,50' },
      'turns-per-user': { type: 'string', default: '2' },
      'timeout-ms': { type: 'string', default: '180000' },
      'warmup-turns': { type: 'string', default: '1' },
      'drain-ms': { type: 'string', default: '600000' },
      out: { type: 'string' },
      'no-close': { type: 'boolean', default: false },
      report: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values.report) {
    const raw = JSON.parse(readFileSync(values.report, 'utf8')) as { levels: LevelResult[] };
    process.stdout.write(`${markdown(raw.levels.map(summarize))}\n`);
    process.exit(0);
  }

  const baseUrl = (values['base-url'] ?? '').replace(/\/+$/, '');
  const host = new URL(baseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    fail(`--base-url must be a loopback address, got ${host}`);
  }

  let apiKey = values['api-key'] ?? process.env.BENCH_API_KEY;
  if (!apiKey && values['api-key-file']) {
    const parsed = JSON.parse(readFileSync(values['api-key-file'], 'utf8')) as { apiKey?: unknown };
    if (typeof parsed.apiKey !== 'string') fail(`${values['api-key-file']} has no "apiKey" string`);
    apiKey = parsed.apiKey;
  }
  if (!apiKey) fail('an API key is required: --api-key, --api-key-file or BENCH_API_KEY');

  const concurrency = positiveList(values.concurrency ?? '', '--concurrency');
  const turns = positiveList(values['turns-per-user'] ?? '', '--turns-per-user');
  if (turns.length !== 1 && turns.length !== concurrency.length) {
    fail('--turns-per-user takes one value or one per --concurrency level');
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    baseUrl,
    apiKey,
    concurrency,
    turnsPerUser: concurrency.map((_, index) => (turns.length === 1 ? turns[0] : turns[index]) as number),
    timeoutMs: positiveInt(values['timeout-ms'] ?? '', '--timeout-ms'),
    warmupTurns: nonNegativeInt(values['warmup-turns'] ?? '', '--warmup-turns'),
    drainMs: nonNegativeInt(values['drain-ms'] ?? '', '--drain-ms'),
    out: resolve(values.out ?? `bench/out/turn-latency-${stamp}.json`),
    closeConversations: !values['no-close'],
  };
}

function positiveList(text: string, name: string): number[] {
  const list = text.split(',').map((part) => positiveInt(part.trim(), name));
  if (list.length === 0) fail(`${name} is empty`);
  return list;
}

function positiveInt(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) fail(`${name}: "${text}" is not a positive integer`);
  return value;
}

function nonNegativeInt(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`${name}: "${text}" is not a non-negative integer`);
  return value;
}

function fail(message: string): never {
  process.stderr.write(`turn-latency: ${message}\n\n${USAGE}`);
  process.exit(2);
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
// Clock: epoch milliseconds with sub-millisecond resolution, comparable with events' occurredAt
// (same machine, loopback).

const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------------
// API access

interface WireEvent {
  eventId: string;
  type: string;
  conversationId: string;
  sequence: number;
  occurredAt: string;
  data: Record<string, unknown>;
}

interface Received {
  event: WireEvent;
  at: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async post<T>(path: string, body: unknown, what: string): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new ApiError(response.status, text, what);
    return JSON.parse(text) as T;
  }

  wsUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/v1/ws`;
  }

  get key(): string {
    return this.apiKey;
  }
}

/**
 * One frontend: one WebSocket subscribed to one conversation. Every event frame is kept with its
 * arrival time, so a turn can be matched however its events interleave with the HTTP response.
 */
class Subscriber {
  readonly events: Received[] = [];
  frames = { event: 0, state: 0, error: 0 };
  private socket: WebSocket | null = null;
  private waiters = new Set<() => void>();
  closedWith: string | null = null;

  constructor(private readonly api: Api) {}

  async open(conversationId: string, timeoutMs: number): Promise<void> {
    const socket = new WebSocket(this.api.wsUrl(), { headers: { authorization: `Bearer ${this.api.key}` } });
    this.socket = socket;
    await new Promise<void>((resolveOpen, rejectOpen) => {
      const timer = setTimeout(() => rejectOpen(new Error('WebSocket subscribe timed out')), timeoutMs);
      socket.on('error', (error) => {
        clearTimeout(timer);
        this.closedWith ??= `error: ${error.message}`;
        rejectOpen(error);
        this.notify();
      });
      socket.on('close', (code, reason) => {
        this.closedWith ??= `closed ${code} ${reason.toString()}`;
        this.notify();
      });
      socket.on('message', (data: RawData, isBinary) => {
        const at = now();
        if (isBinary) return;
        const frame = JSON.parse(textOf(data)) as { type: string; event?: WireEvent; detail?: string };
        if (frame.type === 'subscribed') {
          clearTimeout(timer);
          resolveOpen();
        } else if (frame.type === 'event' && frame.event) {
          this.frames.event++;
          this.events.push({ event: frame.event, at });
        } else if (frame.type === 'state') {
          this.frames.state++;
        } else if (frame.type === 'error') {
          this.frames.error++;
          clearTimeout(timer);
          rejectOpen(new Error(`WebSocket error frame: ${frame.detail ?? ''}`));
        }
        this.notify();
      });
      socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', conversationId })));
    });
  }

  /** Resolves with the first non-null value of `check`, evaluated on each frame, or null at the deadline. */
  waitFor<T>(check: () => T | null, deadline: number): Promise<T | null> {
    return new Promise((resolveWait) => {
      const attempt = (): boolean => {
        const value = check();
        if (value !== null) {
          finish(value);
          return true;
        }
        if (this.closedWith !== null) {
          finish(null);
          return true;
        }
        return false;
      };
      const finish = (value: T | null) => {
        clearTimeout(timer);
        this.waiters.delete(listener);
        resolveWait(value);
      };
      const listener = () => void attempt();
      const timer = setTimeout(() => finish(null), Math.max(0, deadline - now()));
      if (!attempt()) this.waiters.add(listener);
    });
  }

  close(): void {
    this.socket?.close(1000, 'benchmark done');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

// ---------------------------------------------------------------------------------------------------
// One turn

type Outcome = 'completed' | 'reply-failed' | 'timeout' | 'http-error' | 'ws-closed';

interface TurnRecord {
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
  /** The turn's events: type, sequence, ms after POST start of occurredAt and of arrival here. */
  timeline: { type: string; sequence: number; occurredMs: number; receivedMs: number }[];
}

async function runTurn(
  api: Api,
  subscriber: Subscriber,
  conversationId: string,
  meta: { level: number; user: number; turn: number; runId: string },
  timeoutMs: number,
  lateWaits: ((deadline: number) => Promise<void>)[],
): Promise<TurnRecord> {
  const message = messageFor(meta.user, meta.turn);
  const record: TurnRecord = {
    level: meta.level,
    user: meta.user,
    turn: meta.turn,
    conversationId,
    lang: message.lang,
    text: message.text,
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
    timeline: [],
  };
  const seenBefore = subscriber.events.length;
  const t0 = now();
  record.startedAt = new Date(t0).toISOString();
  const deadline = t0 + timeoutMs;
  let messageId: string;
  try {
    const accepted = await api.post<{ messageId: string; sequence: number }>(
      `/v1/conversations/${conversationId}/messages`,
      { text: message.text, clientMessageId: `${meta.runId}-${meta.level}-${meta.user}-${meta.turn}` },
      'send message',
    );
    record.postAcceptedMs = now() - t0;
    messageId = accepted.messageId;
  } catch (error) {
    record.outcome = 'http-error';
    record.failure = error instanceof Error ? error.message : String(error);
    return record;
  }

  const fresh = () => subscriber.events.slice(seenBefore);
  const turnEnd = () => {
    const events = fresh();
    const requested = events.find(
      ({ event }) =>
        event.type === 'conversation.reply-requested.v1' &&
        Array.isArray(event.data.inReplyTo) &&
        (event.data.inReplyTo as string[]).includes(messageId),
    );
    if (!requested) return null;
    const turnId = requested.event.data.turnId as string;
    return (
      events.find(
        ({ event }) =>
          (event.type === 'conversation.reply-completed.v1' ||
            event.type === 'conversation.reply-failed.v1') &&
          event.data.turnId === turnId,
      ) ?? null
    );
  };
  const end = await subscriber.waitFor(turnEnd, deadline);

  // Whatever arrived for this turn, complete or not, goes into the record.
  const events = fresh();
  const messageEvent = events.find(
    ({ event }) => event.type === 'conversation.message-received.v1' && event.data.messageId === messageId,
  );
  const requested = events.find(
    ({ event }) =>
      event.type === 'conversation.reply-requested.v1' &&
      Array.isArray(event.data.inReplyTo) &&
      (event.data.inReplyTo as string[]).includes(messageId),
  );
  const turnId = (requested?.event.data.turnId as string | undefined) ?? null;
  const chunks = turnId
    ? events.filter(
        ({ event }) => event.type === 'conversation.reply-chunk-generated.v1' && event.data.turnId === turnId,
      )
    : [];
  record.turnId = turnId;
  record.chunks = chunks.length;
  record.messageEventMs = messageEvent ? messageEvent.at - t0 : null;
  record.requestedEventMs = requested ? requested.at - t0 : null;
  record.firstChunkMs = chunks[0] ? chunks[0].at - t0 : null;
  record.timeline = events
    .filter(({ event }) => event === messageEvent?.event || (turnId !== null && event.data.turnId === turnId))
    .map(({ event, at }) => ({
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
    record.outcome = subscriber.closedWith !== null ? 'ws-closed' : 'timeout';
    if (record.outcome === 'timeout') {
      lateWaits.push(async (drainDeadline) => {
        const late = await subscriber.waitFor(turnEnd, drainDeadline);
        if (!late) return;
        record.lateEndToEndMs = round(late.at - t0);
        record.lateOutcome =
          late.event.type === 'conversation.reply-completed.v1' ? 'completed' : 'reply-failed';
      });
    }
    record.failure =
      subscriber.closedWith ??
      `no reply within ${timeoutMs} ms (last event seen: ${events.at(-1)?.event.type ?? 'none'})`;
    return record;
  }
  record.endToEndMs = end.at - t0;
  const completedAt = Date.parse(end.event.occurredAt);
  record.stages.deliveryMs = end.at - completedAt;
  if (end.event.type === 'conversation.reply-failed.v1') {
    record.outcome = 'reply-failed';
    record.failure = `${String(end.event.data.code)}: ${String(end.event.data.message)}`;
    return record;
  }
  const timings = end.event.data.timings as { totalMs: number; firstTokenMs: number | null };
  const usage = end.event.data.usage as { promptTokens: number; completionTokens: number };
  record.outcome = 'completed';
  record.modelTotalMs = timings.totalMs;
  record.modelFirstTokenMs = timings.firstTokenMs;
  record.engineMs = record.endToEndMs - timings.totalMs;
  record.completionTokens = usage.completionTokens;
  record.promptTokens = usage.promptTokens;
  record.finishReason = String(end.event.data.finishReason);
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
  subscriber: Subscriber;
  openMs: number;
}

interface LevelResult {
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
  wsFrames: { event: number; state: number; error: number };
  conversationOpenMs: number[];
}

async function openUser(api: Api, index: number, runId: string, timeoutMs: number): Promise<VirtualUser> {
  const started = now();
  const conversation = await api.post<{ conversationId: string }>(
    '/v1/conversations',
    { channel: 'web', labels: { source: 'bench-turn-latency', run: runId } },
    'open conversation',
  );
  const openMs = now() - started;
  const subscriber = new Subscriber(api);
  await subscriber.open(conversation.conversationId, timeoutMs);
  return { index, conversationId: conversation.conversationId, subscriber, openMs };
}

async function runLevel(
  api: Api,
  concurrency: number,
  turnsPerUser: number,
  options: Options,
  runId: string,
): Promise<LevelResult> {
  const setupFailures: string[] = [];
  const opened = await Promise.allSettled(
    Array.from({ length: concurrency }, (_, index) => openUser(api, index, runId, 30_000)),
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
          api,
          user.subscriber,
          user.conversationId,
          { level: concurrency, user: user.index, turn, runId },
          options.timeoutMs,
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

  const wsFrames = { event: 0, state: 0, error: 0 };
  for (const user of users) {
    wsFrames.event += user.subscriber.frames.event;
    wsFrames.state += user.subscriber.frames.state;
    wsFrames.error += user.subscriber.frames.error;
    user.subscriber.close();
  }
  if (options.closeConversations) {
    await Promise.allSettled(
      users.map((user) =>
        api.post(
          `/v1/conversations/${user.conversationId}/close`,
          { reason: 'resolved' },
          'close conversation',
        ),
      ),
    );
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
    conversationOpenMs: users.map((user) => round(user.openMs)),
  };
}

function progress(record: TurnRecord): void {
  const detail =
    record.outcome === 'completed'
      ? `e2e ${fmt(record.endToEndMs)} ms, model ${fmt(record.modelTotalMs)} ms, engine ${fmt(record.engineMs)} ms`
      : (record.failure ?? '');
  process.stderr.write(
    `  [N=${record.level}] user ${record.user} turn ${record.turn} ${record.outcome}: ${detail}\n`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Statistics and report

interface Distribution {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}

/** Nearest-rank percentiles: with few samples p95 and p99 are the maximum. */
function distribution(values: (number | null)[]): Distribution {
  const sorted = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted.length === 0 ? null : round(sorted[Math.ceil((p / 100) * sorted.length) - 1]!);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    mean: sorted.length ? round(sum / sorted.length) : null,
    min: sorted.length ? round(sorted[0]!) : null,
    max: sorted.length ? round(sorted[sorted.length - 1]!) : null,
  };
}

interface LevelSummary {
  concurrency: number;
  turnsPerUser: number;
  attempted: number;
  completed: number;
  replyFailed: number;
  timeouts: number;
  otherFailures: number;
  skipped: number;
  setupFailures: number;
  wallMs: number;
  turnsPerSecond: number;
  /**
   * Completed model calls in flight (started, not finished; llama-server queueing included) over the
   * level's wall time: average and maximum. Below the server's slot count while turns wait, the
   * engine is not keeping the model busy.
   */
  modelCallsInFlight: { average: number; max: number };
  endToEndMs: Distribution;
  engineMs: Distribution;
  firstChunkMs: Distribution;
  modelTotalMs: Distribution;
  modelFirstTokenMs: Distribution;
  postAcceptedMs: Distribution;
  stages: Record<keyof TurnRecord['stages'] | 'messageEventMs' | 'requestedEventMs', Distribution>;
  completionTokens: Distribution;
  /**
   * Completed turns by finish reason. `other` means the model stream ended without a finish reason:
   * with this inference service, that is what its own deadline (LLM_TIMEOUT_MS) firing mid-stream
   * produces, so such a reply is cut short even though it counts as completed.
   */
  finishReasons: Record<string, number>;
  /** End-to-end of timed-out turns whose reply arrived during the drain. */
  lateReplies: Distribution;
  failureReasons: Record<string, number>;
}

function summarize(level: LevelResult): LevelSummary {
  const ok = level.turns.filter((turn) => turn.outcome === 'completed');
  const count = (outcome: Outcome) => level.turns.filter((turn) => turn.outcome === outcome).length;
  const failureReasons: Record<string, number> = {};
  for (const turn of level.turns) {
    if (turn.outcome === 'completed') continue;
    const reason =
      turn.outcome === 'reply-failed' ? `reply-failed ${turn.failure?.split(':')[0] ?? ''}` : turn.outcome;
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  }
  for (const failure of level.setupFailures) failureReasons[`setup: ${failure.slice(0, 80)}`] = 1;
  const pick = (get: (turn: TurnRecord) => number | null, turns = ok) => distribution(turns.map(get));
  return {
    concurrency: level.concurrency,
    turnsPerUser: level.turnsPerUser,
    attempted: level.turns.length,
    completed: ok.length,
    replyFailed: count('reply-failed'),
    timeouts: count('timeout'),
    otherFailures: count('http-error') + count('ws-closed'),
    skipped: level.skippedTurns,
    setupFailures: level.setupFailures.length,
    wallMs: round(level.wallMs),
    turnsPerSecond: Math.round((ok.length / (level.wallMs / 1000)) * 1000) / 1000,
    modelCallsInFlight: inFlight(
      ok.map((turn) => turn.modelWindow).filter((window): window is [number, number] => window !== null),
      Date.parse(level.startedAt),
      level.wallMs,
    ),
    endToEndMs: pick((turn) => turn.endToEndMs),
    engineMs: pick((turn) => turn.engineMs),
    firstChunkMs: pick((turn) => turn.firstChunkMs),
    modelTotalMs: pick((turn) => turn.modelTotalMs),
    modelFirstTokenMs: pick((turn) => turn.modelFirstTokenMs),
    postAcceptedMs: pick((turn) => turn.postAcceptedMs, level.turns),
    stages: {
      messageEventMs: pick((turn) => turn.messageEventMs, level.turns),
      requestedEventMs: pick((turn) => turn.requestedEventMs, level.turns),
      ingestMs: pick((turn) => turn.stages.ingestMs, level.turns),
      sessionsMs: pick((turn) => turn.stages.sessionsMs, level.turns),
      inferencePickupMs: pick((turn) => turn.stages.inferencePickupMs),
      deliveryMs: pick((turn) => turn.stages.deliveryMs),
    },
    completionTokens: pick((turn) => turn.completionTokens),
    lateReplies: pick((turn) => turn.lateEndToEndMs, level.turns),
    finishReasons: ok.reduce<Record<string, number>>((counts, turn) => {
      const reason = turn.finishReason ?? 'unknown';
      counts[reason] = (counts[reason] ?? 0) + 1;
      return counts;
    }, {}),
    failureReasons,
  };
}

function inFlight(
  windows: [number, number][],
  start: number,
  wallMs: number,
): { average: number; max: number } {
  const busy = windows.reduce(
    (total, [from, to]) => total + Math.max(0, Math.min(to, start + wallMs) - Math.max(from, start)),
    0,
  );
  const edges = windows.flatMap(([from, to]) => [
    { at: from, delta: 1 },
    { at: to, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const edge of edges) {
    current += edge.delta;
    max = Math.max(max, current);
  }
  return { average: wallMs > 0 ? Math.round((busy / wallMs) * 100) / 100 : 0, max };
}

function markdown(summaries: LevelSummary[]): string {
  const triple = (d: Distribution) => `${fmt(d.p50)} / ${fmt(d.p95)} / ${fmt(d.p99)}`;
  const lines = [
    '| N | turns ok / sent | reply-failed | timeouts | other | end-to-end ms p50 / p95 / p99 | engine share ms p50 / p95 / p99 | first chunk ms p50 / p95 / p99 | model ms p50 | turns/s | wall s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summaries) {
    lines.push(
      `| ${s.concurrency} | ${s.completed} / ${s.attempted}${s.skipped ? ` (+${s.skipped} skipped)` : ''} | ${s.replyFailed} | ${s.timeouts} | ${s.otherFailures + s.setupFailures} | ${triple(s.endToEndMs)} | ${triple(s.engineMs)} | ${triple(s.firstChunkMs)} | ${fmt(s.modelTotalMs.p50)} | ${s.turnsPerSecond.toFixed(3)} | ${(s.wallMs / 1000).toFixed(1)} |`,
    );
  }
  lines.push(
    '',
    'Where the time goes, p50 (p95) ms; stages from the events\u2019 occurredAt (server clock, ms resolution):',
    '',
    '| N | POST 202 | POST \u2192 message event on WS | POST \u2192 message appended | message \u2192 reply-requested appended | requested \u2192 model start | model first token | model total | completed appended \u2192 WS frame | completion tokens | model calls in flight avg / max |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const pair = (d: Distribution) => `${fmt(d.p50)} (${fmt(d.p95)})`;
  for (const s of summaries) {
    lines.push(
      `| ${s.concurrency} | ${pair(s.postAcceptedMs)} | ${pair(s.stages.messageEventMs)} | ${pair(s.stages.ingestMs)} | ${pair(s.stages.sessionsMs)} | ${pair(s.stages.inferencePickupMs)} | ${pair(s.modelFirstTokenMs)} | ${pair(s.modelTotalMs)} | ${pair(s.stages.deliveryMs)} | ${pair(s.completionTokens)} | ${s.modelCallsInFlight.average.toFixed(1)} / ${s.modelCallsInFlight.max} |`,
    );
  }
  lines.push(
    '',
    `Finish reasons of completed replies: ${summaries.map((s) => `N=${s.concurrency} ${JSON.stringify(s.finishReasons)}`).join('; ')}` +
      ' (`other`: the stream ended without a finish reason, e.g. cut by the inference deadline).',
  );
  const failures = summaries.filter((s) => Object.keys(s.failureReasons).length > 0);
  if (failures.length > 0) {
    lines.push('', 'Failures:', '');
    for (const s of failures) {
      const late =
        s.timeouts > 0
          ? `; timed-out turns answered later: ${s.lateReplies.n} (p50 ${fmt(s.lateReplies.p50)} ms, max ${fmt(s.lateReplies.max)} ms after the POST)`
          : '';
      lines.push(`- N=${s.concurrency}: ${JSON.stringify(s.failureReasons)}${late}`);
    }
  }
  return lines.join('\n');
}

function fmt(value: number | null): string {
  if (value === null) return '–';
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const api = new Api(options.baseUrl, options.apiKey);
  const runId = `bench-${Date.now().toString(36)}`;
  const startedAt = new Date().toISOString();
  process.stderr.write(
    `turn-latency ${runId}: ${options.baseUrl}, levels ${options.concurrency.join(',')}, ` +
      `turns/user ${options.turnsPerUser.join(',')}, timeout ${options.timeoutMs} ms\n`,
  );

  let warmup: TurnRecord[] = [];
  if (options.warmupTurns > 0) {
    process.stderr.write(`warm-up: ${options.warmupTurns} turn(s), not recorded\n`);
    const level = await runLevel(api, 1, options.warmupTurns, options, `${runId}-warmup`);
    warmup = level.turns;
  }

  const levels: LevelResult[] = [];
  for (const [index, concurrency] of options.concurrency.entries()) {
    const turnsPerUser = options.turnsPerUser[index] as number;
    process.stderr.write(`level N=${concurrency}: ${concurrency * turnsPerUser} turns\n`);
    levels.push(await runLevel(api, concurrency, turnsPerUser, options, runId));
  }

  const summaries = levels.map(summarize);
  const table = markdown(summaries);
  process.stdout.write(`\n${table}\n\n`);

  const report = {
    benchmark: 'turn-latency',
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { ...options, apiKey: undefined },
    node: process.version,
    summaries,
    markdown: table,
    warmup,
    levels,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`raw results: ${options.out}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `turn-latency failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
