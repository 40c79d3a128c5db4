/**
 * Turn-latency benchmark: N virtual users, each with its own conversation and WebSocket, send
 * customer messages through the public API and wait for the reply, for each N of --concurrency.
 *
 * One turn is measured from just before `POST /v1/conversations/{id}/messages` to the WebSocket
 * `event` frame carrying `conversation.reply-completed.v2` (or `reply-failed.v1`) for that message.
 * The model's own time (`data.timings.totalMs`, measured by the inference service) is subtracted to
 * get the engine share: what the gateway, event store, outbox relay, Kafka, sessions and inference
 * plumbing add on top of the model.
 *
 *   npm run build && node dist/bench/turn-latency/turn-latency.js --concurrency 1,10,50 \
 *     --api-key-file /tmp/demo-key.json
 *
 * With --engine-mode it starts its own engine instead (the five services from dist/ against the
 * fixed-latency model server, own database and topic prefix) and takes each turn apart hop by hop:
 *
 *   npm run build && npm run bench:engine
 *
 * Loopback only: the base URL must point at 127.0.0.1, ::1 or localhost.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GatewayClient, wallClock as now } from '@libs/client';
import { StateFramesSchema, type StateFrames } from '@contracts';
import {
  engineMarkdown,
  startEngine,
  summarizeEngine,
  type Engine,
  type EngineLevelSummary,
  type ModelSettings,
} from './engine-mode';
import { LevelCpuMeter, cpuMarkdown, type IdleCpu, type LevelCpu } from './level-cpu';
import { markdown, summarize, type LevelSummary } from './report';
import { runLevel, type LevelResult, type TurnRecord } from './run-level';

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
  stateFrames: StateFrames;
  /** Engine mode: start the services against the fixed-latency model; null: use --base-url. */
  engine: { basePort: number; model: ModelSettings; saturateMax: number } | null;
}

const USAGE = `Usage: node dist/bench/turn-latency/turn-latency.js [options]

  --base-url URL          gateway base URL, loopback only       (default http://127.0.0.1:3000)
  --api-key KEY           tenant API key (or BENCH_API_KEY in the environment)
  --api-key-file PATH     JSON file with an "apiKey" field       (e.g. /tmp/demo-key.json)
  --concurrency LIST      virtual users per level, comma list    (default 1,10,50; engine mode 1,10,50,200)
  --turns-per-user LIST   turns per user; one value, or one per level  (default 2; engine mode 5,3,2,2)
  --timeout-ms MS         per-turn deadline, POST to completion  (default 180000; engine mode 120000)
  --warmup-turns N        unrecorded turns before the first level (default 1; engine mode 3)
  --drain-ms MS           after a level, wait this long for timed-out turns to end, so the
                          next level starts on an idle engine        (default 600000; engine mode 30000)
  --out PATH              raw JSON output  (default bench/out/turn-latency-<timestamp>.json)
  --no-close              leave the benchmark's conversations open
  --state-frames MODE     full: a state frame with the whole view after each change; compact: the
                          view without its transcript, plus the entries added     (default full)
  --report PATH           print the tables of an earlier raw JSON result again; runs nothing
  --help

Engine mode (the engine's own cost, with a model of known latency):
  --engine-mode                 start bench/fixed-latency-model and the five services from dist/ on
                                their own database and topic prefix (needs DATABASE_URL and
                                KAFKA_BROKERS: source ~/.cache/convo-engine/stack.env); removes them after
  --base-port PORT              services on PORT..PORT+4, the model on PORT+5   (default 4350)
  --model-ttft-ms MS            the model's time to first token                 (default 200)
  --model-tokens-per-second N   its speed after the first token                 (default 50)
  --model-reply-tokens N        tokens per reply                                (default 40)
  --saturate-max N              after the levels, double N (one turn per user) while turns/s
                                still rises by 10 % or more, up to N users (0: off) (default 800)
`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'base-url': { type: 'string', default: 'http://127.0.0.1:3000' },
      'api-key': { type: 'string' },
      'api-key-file': { type: 'string' },
      concurrency: { type: 'string' },
      'turns-per-user': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'warmup-turns': { type: 'string' },
      'drain-ms': { type: 'string' },
      out: { type: 'string' },
      'no-close': { type: 'boolean', default: false },
      'state-frames': { type: 'string', default: 'full' },
      report: { type: 'string' },
      'engine-mode': { type: 'boolean', default: false },
      'base-port': { type: 'string', default: '4350' },
      'model-ttft-ms': { type: 'string', default: '200' },
      'model-tokens-per-second': { type: 'string', default: '50' },
      'model-reply-tokens': { type: 'string', default: '40' },
      'saturate-max': { type: 'string', default: '800' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values.report) {
    const raw = JSON.parse(readFileSync(values.report, 'utf8')) as {
      levels: LevelResult[];
      engine?: EngineLevelSummary[];
      cpu?: { idle: IdleCpu | null; levels: LevelCpu[] };
    };
    process.stdout.write(`${markdown(raw.levels.map(summarize))}\n`);
    if (raw.engine) process.stdout.write(`\n${engineMarkdown(raw.engine)}\n`);
    if (raw.cpu) process.stdout.write(`\n${cpuMarkdown(raw.cpu.levels, raw.cpu.idle)}\n`);
    process.exit(0);
  }

  const engineMode = values['engine-mode'];
  const pick = (given: string | undefined, normal: string, engine: string) =>
    given ?? (engineMode ? engine : normal);

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
  if (!apiKey && !engineMode) fail('an API key is required: --api-key, --api-key-file or BENCH_API_KEY');

  const concurrency = positiveList(pick(values.concurrency, '1,10,50', '1,10,50,200'), '--concurrency');
  const turns = positiveList(pick(values['turns-per-user'], '2', '5,3,2,2'), '--turns-per-user');
  if (turns.length !== 1 && turns.length !== concurrency.length) {
    fail('--turns-per-user takes one value or one per --concurrency level');
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    baseUrl,
    apiKey: apiKey ?? '',
    concurrency,
    turnsPerUser: concurrency.map((_, index) => (turns.length === 1 ? turns[0] : turns[index]) as number),
    timeoutMs: positiveInt(pick(values['timeout-ms'], '180000', '120000'), '--timeout-ms'),
    warmupTurns: nonNegativeInt(pick(values['warmup-turns'], '1', '3'), '--warmup-turns'),
    drainMs: nonNegativeInt(pick(values['drain-ms'], '600000', '30000'), '--drain-ms'),
    out: resolve(values.out ?? `bench/out/turn-latency${engineMode ? '-engine' : ''}-${stamp}.json`),
    closeConversations: !values['no-close'],
    stateFrames: stateFramesOf(values['state-frames'] ?? ''),
    engine: engineMode
      ? {
          basePort: positiveInt(values['base-port'] ?? '', '--base-port'),
          model: {
            ttftMs: nonNegativeInt(values['model-ttft-ms'] ?? '', '--model-ttft-ms'),
            tokensPerSecond: positiveInt(
              values['model-tokens-per-second'] ?? '',
              '--model-tokens-per-second',
            ),
            replyTokens: positiveInt(values['model-reply-tokens'] ?? '', '--model-reply-tokens'),
          },
          saturateMax: nonNegativeInt(values['saturate-max'] ?? '', '--saturate-max'),
        }
      : null,
  };
}

function stateFramesOf(text: string): StateFrames {
  const parsed = StateFramesSchema.safeParse(text);
  if (!parsed.success)
    fail(`--state-frames: "${text}" is not one of ${StateFramesSchema.options.join(', ')}`);
  return parsed.data;
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

/** The next level while turns/s still rises by 10 % or more (the last level's users doubled), else null. */
function nextSaturationLevel(summaries: LevelSummary[], max: number): number | null {
  const [previous, last] = summaries.slice(-2);
  if (!previous || !last || last.turnsPerSecond < previous.turnsPerSecond * 1.1) return null;
  const next = last.concurrency * 2;
  return next <= max ? next : null;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  let engine: Engine | null = null;
  if (options.engine) {
    process.stderr.write(
      `engine mode: fixed-latency model ${JSON.stringify(options.engine.model)}, ports ${options.engine.basePort}+\n`,
    );
    engine = await startEngine(options.engine.basePort, options.engine.model);
    process.stderr.write(
      `  services up: ${engine.baseUrl}, topics ${engine.topicPrefix}*, database ${engine.database}, logs ${engine.logDir}\n`,
    );
  }
  try {
    await run(options, engine);
  } finally {
    await engine?.stop();
  }
}

async function run(options: Options, engine: Engine | null): Promise<void> {
  const client = engine
    ? new GatewayClient(engine.baseUrl, engine.apiKey)
    : new GatewayClient(options.baseUrl, options.apiKey);
  const levelOptions = { ...options, tagMessages: engine !== null };
  const runId = `bench-${Date.now().toString(36)}`;
  const startedAt = new Date().toISOString();
  const runStarted = now();
  process.stderr.write(
    `turn-latency ${runId}: ${client.baseUrl}, levels ${options.concurrency.join(',')}, ` +
      `turns/user ${options.turnsPerUser.join(',')}, timeout ${options.timeoutMs} ms\n`,
  );

  let warmup: TurnRecord[] = [];
  if (options.warmupTurns > 0) {
    process.stderr.write(`warm-up: ${options.warmupTurns} turn(s), not recorded\n`);
    const level = await runLevel(client, 1, options.warmupTurns, levelOptions, `${runId}-warmup`);
    warmup = level.turns;
  }

  const levels: LevelResult[] = [];
  const summaries: LevelSummary[] = [];
  const cpu: LevelCpu[] = [];
  const meter = new LevelCpuMeter(engine?.processNames() ?? null);
  process.stderr.write('idle CPU sample: 5 s with no turns\n');
  const idleCpu = await meter.sampleIdle();
  const runOne = async (concurrency: number, turnsPerUser: number) => {
    process.stderr.write(`level N=${concurrency}: ${concurrency * turnsPerUser} turns\n`);
    meter.start();
    const level = await runLevel(client, concurrency, turnsPerUser, levelOptions, runId);
    levels.push(level);
    const summary = summarize(level);
    summaries.push(summary);
    const levelCpu = meter.stop(concurrency, summary.completed);
    if (levelCpu) cpu.push(levelCpu);
  };
  for (const [index, concurrency] of options.concurrency.entries()) {
    await runOne(concurrency, options.turnsPerUser[index] as number);
  }
  // Saturation: more users while throughput still grows, so the last level shows the ceiling.
  for (
    let next = nextSaturationLevel(summaries, options.engine?.saturateMax ?? 0);
    next !== null;
    next = nextSaturationLevel(summaries, options.engine?.saturateMax ?? 0)
  ) {
    await runOne(next, 1); // one turn each keeps a big level within a few minutes
  }

  const table = markdown(summaries);
  process.stdout.write(`\n${table}\n\n`);
  let engineSummaries: EngineLevelSummary[] | undefined;
  if (engine) {
    const { requests, embeddings } = await engine.modelStats();
    const kafkaAt = engine.kafkaTimestamps();
    engineSummaries = levels.map((level, index) =>
      summarizeEngine(level, summaries[index] as LevelSummary, requests, embeddings, kafkaAt),
    );
    process.stdout.write(`${engineMarkdown(engineSummaries)}\n\n`);
  }
  if (cpu.length > 0) process.stdout.write(`${cpuMarkdown(cpu, idleCpu)}\n\n`);

  const report = {
    benchmark: 'turn-latency',
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds: Math.round((now() - runStarted) / 1000),
    options: { ...options, apiKey: undefined },
    node: process.version,
    summaries,
    markdown: table,
    engine: engineSummaries,
    cpu: { idle: idleCpu, levels: cpu },
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
