/**
 * Engine mode: the five services from dist/ against the fixed-latency model server, on a database and
 * topic prefix of their own (the e2e suite's helpers), so every millisecond of a turn beyond the
 * model's known time is the engine's. Each turn is taken apart hop by hop from the events' occurredAt,
 * the Kafka message timestamps (a consumer of the benchmark's own), the model server's log of when
 * each call arrived and ended, and the WebSocket frame's arrival at the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '@contracts';
import { VectorIndex } from '@libs/knowledge-search';
import { topicName } from '@libs/messaging';
import {
  ServiceProcesses,
  answerEveryMessage,
  createTenantWithKey,
  createTestDatabase,
  createTestKafka,
  type TestDatabase,
  type TestKafka,
  type TopicRecorder,
} from '@test/support';
import type { EmbeddingStat, RequestStat } from '../fixed-latency-model/server';
import type { LevelSummary } from './report';
import type { LevelResult, TurnRecord } from './run-level';
import { distribution, fmt, type Distribution } from './statistics';

export interface ModelSettings {
  ttftMs: number;
  tokensPerSecond: number;
  replyTokens: number;
}

export interface Engine {
  baseUrl: string;
  apiKey: string;
  modelUrl: string;
  topicPrefix: string;
  database: string;
  logDir: string;
  /** Every model call the fixed-latency server has seen. */
  modelStats(): Promise<{ requests: RequestStat[]; embeddings: EmbeddingStat[] }>;
  /** Kafka message timestamp (epoch ms) of each event relayed so far, by event id. */
  kafkaTimestamps(): Map<string, number>;
  /** The processes the engine started, by pid: the five services and the model server. */
  processNames(): Map<number, string>;
  stop(): Promise<void>;
}

/** Starts the model server and the five services on ports basePort..basePort+5; stop() removes everything. */
export async function startEngine(basePort: number, model: ModelSettings): Promise<Engine> {
  for (const key of ['DATABASE_URL', 'KAFKA_BROKERS', 'ELASTICSEARCH_URL', 'MILVUS_ADDRESS']) {
    if (!process.env[key]) throw new Error(`${key} is not set: source ~/.cache/convo-engine/stack.env first`);
  }
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const modelPort = basePort + 5;
    const modelUrl = `http://127.0.0.1:${modelPort}`;
    const kafka: TestKafka = await createTestKafka('bench-engine');
    cleanups.push(() => kafka.drop());
    const logDir = join(homedir(), '.cache', 'convo-engine', 'logs', `bench-${kafka.prefix}`);
    mkdirSync(logDir, { recursive: true });

    const modelServer = startModelServer(modelPort, model, join(logDir, 'fixed-latency-model.log'));
    cleanups.push(() => stopChild(modelServer));
    await waitHealthy(`${modelUrl}/health`, modelServer);

    const db: TestDatabase = await createTestDatabase('bench_engine');
    cleanups.push(() => db.drop());
    await kafka.ensureTopics();
    const apiKey = await createTenantWithKey(db.dataSource, 'bench');
    // One slot-free intent, decided by the embeddings fast path (the fixed server's hashed vectors):
    // every message is answered by the model, through the same hops a real question takes.
    await answerEveryMessage(db.dataSource, 'bench', BENCH_INTENT_EXAMPLES, { fastPathMinConfidence: 0 });
    const recorder: TopicRecorder = await kafka.record(topicName(kafka.prefix, TOPICS.conversationEvents));
    cleanups.push(() => recorder.stop());

    // Retrieval searches an (empty) index of the run's own: the hop is real, the knowledge base is not.
    const knowledgeIndex = `bench_kb_${kafka.prefix.replace(/[^a-z0-9]/g, '_')}`.slice(0, 60);
    cleanups.push(() => dropKnowledgeIndex(knowledgeIndex));
    const services = new ServiceProcesses(
      {
        ...process.env,
        DATABASE_URL: db.url,
        KAFKA_TOPIC_PREFIX: kafka.prefix,
        GATEWAY_INSTANCE_ID: 'bench',
        LLM_BASE_URL: `${modelUrl}/v1`,
        LLM_API_KEY: 'none',
        LLM_MODEL: 'fixed-latency',
        EMBEDDINGS_BASE_URL: `${modelUrl}/v1`,
        EMBEDDINGS_API_KEY: 'none',
        EMBEDDINGS_MODEL: 'fixed-latency',
        EMBEDDINGS_DIMENSIONS: String(EMBEDDING_DIMENSIONS),
        KNOWLEDGE_INDEX: knowledgeIndex,
      },
      basePort,
      logDir,
    );
    cleanups.push(() => services.stopAll());
    await services.startAll();

    return {
      baseUrl: services.url('gateway'),
      apiKey,
      modelUrl,
      topicPrefix: kafka.prefix,
      database: db.name,
      logDir,
      async modelStats() {
        const response = await fetch(`${modelUrl}/stats`);
        return (await response.json()) as { requests: RequestStat[]; embeddings: EmbeddingStat[] };
      },
      processNames() {
        const names = new Map<number, string>();
        for (const [name, pid] of services.pids()) names.set(pid, name);
        if (modelServer.pid !== undefined) names.set(modelServer.pid, 'fixed-latency model');
        return names;
      },
      kafkaTimestamps() {
        const timestamps = new Map<string, number>();
        for (const message of recorder.messages) {
          const eventId = message.headers['event-id'];
          // A republished event keeps the time it first reached Kafka.
          if (eventId !== undefined && !timestamps.has(eventId)) timestamps.set(eventId, message.timestamp);
        }
        return timestamps;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The embeddings the fixed server answers: its default length, also the bench index's dimension. */
const EMBEDDING_DIMENSIONS = 384;

const BENCH_INTENT_EXAMPLES = ['where is my order', 'how long does shipping take', '我的订单到哪里了'];

async function dropKnowledgeIndex(name: string): Promise<void> {
  await fetch(`${process.env.ELASTICSEARCH_URL ?? ''}/${name}`, { method: 'DELETE' }).catch(() => null);
  const milvus = new VectorIndex(process.env.MILVUS_ADDRESS ?? '', name, EMBEDDING_DIMENSIONS);
  await milvus.drop().catch(() => null);
  await milvus.close();
}

function startModelServer(port: number, model: ModelSettings, logFile: string): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      join(__dirname, '..', 'fixed-latency-model', 'server.js'),
      '--port',
      String(port),
      '--ttft-ms',
      String(model.ttftMs),
      '--tokens-per-second',
      String(model.tokensPerSecond),
      '--reply-tokens',
      String(model.replyTokens),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the model server exited (${child.exitCode})`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the model server did not answer ${url} within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------------------------------------------
// One turn, hop by hop (epoch ms; occurredAt has millisecond resolution and is taken when the append
// starts, so each append's transaction falls into the hop after it)

const HOPS = {
  postToAppended: 'POST → message-received appended',
  appendedToKafka: 'appended → on Kafka (outbox relay)',
  kafkaToKnowledge: '(beside) message on Kafka → knowledge-retrieved appended (retrieval)',
  kafkaToTaskRequested:
    'message on Kafka → classify task requested (sessions; with its outcome when it classifies)',
  taskRequestedToKafka: '(inference path) task requested → on Kafka',
  kafkaToTaskCompleted: '(inference path) on Kafka → task completed appended (embedding incl.)',
  embeddingMs: 'embedding call (fixed server)',
  taskCompletedToKafka: '(inference path) task completed → on Kafka',
  kafkaToRequested: 'last input (knowledge or task result) on Kafka → reply-requested appended (sessions)',
  classifiedBySessions: 'turns whose intent sessions classified in its step (1) or inference did (0), mean',
  requestedToKafka: 'reply-requested appended → on Kafka',
  kafkaToModelStart: 'on Kafka → model call arrives (inference)',
  requestedToModelStart: '= reply-requested appended → model call arrives',
  modelMs: 'model call (fixed server: arrival → last token)',
  modelEndToCompleted: 'model end → reply-completed appended',
  completedToKafka: 'reply-completed appended → on Kafka',
  kafkaToWs: 'on Kafka → WebSocket frame at the client (gateway)',
  completedToWs: '= reply-completed appended → WebSocket frame',
  endToEnd: '**end-to-end** (POST → reply-completed frame)',
  engineMs: '**engine share** (end-to-end − model call − embedding call)',
} as const;

type Hop = keyof typeof HOPS;
export type TurnHops = Record<Hop, number | null>;

export function hopsOf(
  turn: TurnRecord,
  model: RequestStat | undefined,
  embedding: EmbeddingStat | undefined,
  kafkaAt: Map<string, number>,
): TurnHops | null {
  if (turn.outcome !== 'completed') return null;
  const at = (type: string) => turn.timeline.find((entry) => entry.type === type);
  const message = at('conversation.message-received.v1');
  const knowledge = at('conversation.knowledge-retrieved.v1');
  const taskRequested = at('conversation.model-task-requested.v1');
  const taskCompleted = at('conversation.model-task-completed.v1');
  const requested = at('conversation.reply-requested.v1');
  const completed = at('conversation.reply-completed.v2');
  const occurred = (entry: typeof message) => (entry ? turn.t0 + entry.occurredMs : null);
  const onKafka = (entry: typeof message) => (entry ? (kafkaAt.get(entry.eventId) ?? null) : null);
  const diff = (from: number | null | undefined, to: number | null | undefined) =>
    from === null || from === undefined || to === null || to === undefined ? null : to - from;

  // Sessions appended the outcome with the request (one append: one occurredAt) when it classified.
  const bySessions =
    taskRequested !== undefined &&
    taskCompleted !== undefined &&
    taskCompleted.occurredMs === taskRequested.occurredMs;
  const viaInference = (value: number | null) => (bySessions ? null : value);
  const lastInputOnKafka = Math.max(
    onKafka(knowledge) ?? -Infinity,
    bySessions ? -Infinity : (onKafka(taskCompleted) ?? -Infinity),
  );
  const messageAt = occurred(message);
  const requestedAt = occurred(requested);
  const completedAt = occurred(completed);
  const completedFrameAt = completed ? turn.t0 + completed.receivedMs : null;
  const modelMs = model ? diff(model.arrivedAt, model.endedAt) : null;
  const embeddingMs = embedding ? diff(embedding.arrivedAt, embedding.endedAt) : null;
  const endToEnd = turn.endToEndMs;
  return {
    postToAppended: diff(turn.t0, messageAt),
    appendedToKafka: diff(messageAt, onKafka(message)),
    kafkaToKnowledge: diff(onKafka(message), occurred(knowledge)),
    kafkaToTaskRequested: diff(onKafka(message), occurred(taskRequested)),
    taskRequestedToKafka: viaInference(diff(occurred(taskRequested), onKafka(taskRequested))),
    kafkaToTaskCompleted: viaInference(diff(onKafka(taskRequested), occurred(taskCompleted))),
    embeddingMs,
    taskCompletedToKafka: viaInference(diff(occurred(taskCompleted), onKafka(taskCompleted))),
    kafkaToRequested: diff(Number.isFinite(lastInputOnKafka) ? lastInputOnKafka : null, requestedAt),
    classifiedBySessions: taskCompleted === undefined ? null : bySessions ? 1 : 0,
    requestedToKafka: diff(requestedAt, onKafka(requested)),
    kafkaToModelStart: diff(onKafka(requested), model?.arrivedAt),
    requestedToModelStart: diff(requestedAt, model?.arrivedAt),
    modelMs,
    modelEndToCompleted: diff(model?.endedAt, completedAt),
    completedToKafka: diff(completedAt, onKafka(completed)),
    kafkaToWs: diff(onKafka(completed), completedFrameAt),
    completedToWs: diff(completedAt, completedFrameAt),
    endToEnd,
    engineMs: endToEnd !== null && modelMs !== null ? endToEnd - modelMs - (embeddingMs ?? 0) : null,
  };
}

export interface EngineLevelSummary {
  concurrency: number;
  completed: number;
  attempted: number;
  turnsPerSecond: number;
  /** Most model calls the fixed server had open at once during the level. */
  modelCallsInFlightMax: number;
  /** Completed turns whose model call was not found in the server's log (should be 0). */
  unmatchedModelCalls: number;
  hops: Record<Hop, Distribution>;
}

export function summarizeEngine(
  level: LevelResult,
  summary: LevelSummary,
  stats: RequestStat[],
  embeddings: EmbeddingStat[],
  kafkaAt: Map<string, number>,
): EngineLevelSummary {
  const byKey = new Map<string, RequestStat>();
  // The last finished call per message: a retried generation replaces an aborted one.
  for (const stat of stats) if (!stat.aborted) byKey.set(stat.key, stat);
  // The message's first embedding (classification's and retrieval's start together; each takes the
  // server's fixed time). Inputs may carry a prefix such as "query: ".
  const embeddingOf = (text: string) => embeddings.find((stat) => stat.key.endsWith(text));
  const completed = level.turns.filter((turn) => turn.outcome === 'completed');
  const hops = completed
    .map((turn) => hopsOf(turn, byKey.get(turn.text), embeddingOf(turn.text), kafkaAt))
    .filter((turnHops): turnHops is TurnHops => turnHops !== null);
  const keys = new Set(level.turns.map((turn) => turn.text));
  const calls = stats.filter((stat) => keys.has(stat.key));
  return {
    concurrency: level.concurrency,
    completed: summary.completed,
    attempted: summary.attempted,
    turnsPerSecond: summary.turnsPerSecond,
    modelCallsInFlightMax: maxOverlap(calls.map((call) => [call.arrivedAt, call.endedAt ?? call.arrivedAt])),
    unmatchedModelCalls: completed.filter((turn) => !byKey.has(turn.text)).length,
    hops: Object.fromEntries(
      (Object.keys(HOPS) as Hop[]).map((hop) => [hop, distribution(hops.map((turnHops) => turnHops[hop]))]),
    ) as Record<Hop, Distribution>,
  };
}

function maxOverlap(windows: [number, number][]): number {
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
  return max;
}

export function engineMarkdown(levels: EngineLevelSummary[]): string {
  const triple = (d: Distribution) => `${fmt(d.p50)} / ${fmt(d.p95)} / ${fmt(d.p99)}`;
  const header = levels.map((level) => `N=${level.concurrency}`);
  const row = (label: string, cells: string[]) => `| ${label} | ${cells.join(' | ')} |`;
  return [
    row('ms, p50 / p95 / p99', header),
    `|---|${levels.map(() => '---:').join('|')}|`,
    ...(Object.keys(HOPS) as Hop[]).map((hop) =>
      row(
        HOPS[hop],
        levels.map((level) =>
          hop === 'classifiedBySessions' ? fmt(level.hops[hop].mean) : triple(level.hops[hop]),
        ),
      ),
    ),
    row(
      'turns ok / sent',
      levels.map((level) => `${level.completed} / ${level.attempted}`),
    ),
    row(
      '**turns/s**',
      levels.map((level) => level.turnsPerSecond.toFixed(2)),
    ),
    row(
      'model calls in flight, max',
      levels.map((level) => String(level.modelCallsInFlightMax)),
    ),
  ].join('\n');
}
