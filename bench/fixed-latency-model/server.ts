/**
 * A fixed-latency OpenAI-compatible model server, for measuring the engine's own cost: every reply
 * takes exactly the configured time (first token after --ttft-ms, then --tokens-per-second, for
 * --reply-tokens tokens or the request's max_tokens), so whatever a turn takes beyond that is the
 * engine. Requests are independent (each runs on its own timers, no queue), however many arrive.
 *
 *   node dist/bench/fixed-latency-model/server.js --port 4355 --ttft-ms 200 --tokens-per-second 50 --reply-tokens 40
 *
 * Routes: GET /health, GET /v1/models, POST /v1/chat/completions (SSE when `stream`, with `usage` in a
 * last chunk when `stream_options.include_usage`), POST /v1/embeddings (after --embedding-ms, vectors
 * hashed from the text's character n-grams: deterministic, and similar texts are near), GET /stats (per
 * request: arrival, first token and end times, keyed by the last user message or the first input; and
 * `concurrency`: completions open now and the most open at once, which is how a test sees the engine's
 * model calls in flight), DELETE /stats (clears them). Node http only, no dependencies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

export interface FixedLatencySettings {
  ttftMs: number;
  tokensPerSecond: number;
  replyTokens: number;
  model: string;
  /** Time every /v1/embeddings request takes, however many inputs it has (default 5). */
  embeddingMs?: number;
  /** Length of its vectors (default 384). */
  embeddingDimensions?: number;
}

/** One /v1/embeddings request (epoch ms). */
export interface EmbeddingStat {
  /** The first input: how a benchmark finds its turn. */
  key: string;
  inputs: number;
  arrivedAt: number;
  endedAt: number | null;
}

/** One chat completion as the server saw it (epoch ms, sub-millisecond). */
export interface RequestStat {
  /** The content of the last user message: how a benchmark finds its turn. */
  key: string;
  stream: boolean;
  arrivedAt: number;
  firstTokenAt: number | null;
  endedAt: number | null;
  completionTokens: number;
  /** The client went away before the reply ended. */
  aborted: boolean;
}

/** Chat completions open at once: now, and the most since the last reset. */
export interface Concurrency {
  current: number;
  max: number;
}

interface ChatRequest {
  messages?: { role?: unknown; content?: unknown }[];
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown };
}

const now = (): number => performance.timeOrigin + performance.now();

/** Tokens of the reply: short ASCII words, so any tokenizer-free reader counts one per delta. */
const WORDS = ['Thanks', ' for', ' waiting', ',', ' your', ' order', ' is', ' on', ' its', ' way', '.'];

export function createFixedLatencyServer(settings: FixedLatencySettings): {
  server: Server;
  stats: RequestStat[];
  embeddingStats: EmbeddingStat[];
  concurrency: Concurrency;
} {
  const stats: RequestStat[] = [];
  const embeddingStats: EmbeddingStat[] = [];
  const concurrency: Concurrency = { current: 0, max: 0 };
  const server = createServer((req, res) => {
    handle(req, res, settings, stats, embeddingStats, concurrency).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { message: String(error) } });
      else res.destroy();
    });
  });
  // Many concurrent streams on loopback: never let Node's defaults cut them.
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  return { server, stats, embeddingStats, concurrency };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  settings: FixedLatencySettings,
  stats: RequestStat[],
  embeddingStats: EmbeddingStat[],
  concurrency: Concurrency,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://model').pathname;
  if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'ok' });
  if (req.method === 'GET' && path === '/v1/models') {
    return json(res, 200, {
      object: 'list',
      data: [{ id: settings.model, object: 'model', created: 0, owned_by: 'bench' }],
    });
  }
  if (req.method === 'GET' && path === '/stats') {
    return json(res, 200, { settings, concurrency, requests: stats, embeddings: embeddingStats });
  }
  if (req.method === 'DELETE' && path === '/stats') {
    stats.length = 0;
    embeddingStats.length = 0;
    concurrency.max = concurrency.current;
    return json(res, 204, null);
  }
  if (req.method === 'POST' && path === '/v1/chat/completions') {
    const arrivedAt = now();
    // Open from arrival until the response closes (ended or abandoned by the client).
    concurrency.current++;
    concurrency.max = Math.max(concurrency.max, concurrency.current);
    res.once('close', () => concurrency.current--);
    let body: ChatRequest;
    try {
      body = JSON.parse(await readBody(req)) as ChatRequest;
    } catch {
      return json(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }
    return complete(res, body, arrivedAt, settings, stats);
  }
  if (req.method === 'POST' && path === '/v1/embeddings') {
    const arrivedAt = now();
    let body: { input?: unknown; encoding_format?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as { input?: unknown; encoding_format?: unknown };
    } catch {
      return json(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || !inputs.every((input) => typeof input === 'string')) {
      return json(res, 400, { error: { message: 'input must be strings', type: 'invalid_request_error' } });
    }
    const stat: EmbeddingStat = { key: inputs[0] ?? '', inputs: inputs.length, arrivedAt, endedAt: null };
    embeddingStats.push(stat);
    // The `openai` client asks for base64 (little-endian float32) unless told otherwise.
    const base64 = body.encoding_format === 'base64';
    const data = inputs.map((input, index) => {
      const vector = hashedEmbedding(input, settings.embeddingDimensions ?? 384);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, arrivedAt + (settings.embeddingMs ?? 5) - now())),
    );
    stat.endedAt = now();
    return json(res, 200, {
      object: 'list',
      data,
      model: settings.model,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  }
  return json(res, 404, { error: { message: `no route ${req.method} ${path}` } });
}

/**
 * A unit vector from the text's character bigrams and trigrams, hashed into the dimensions (FNV-1a):
 * the same text always gives the same vector, and texts sharing n-grams are near (cosine), so an
 * intent index or a vector search over these behaves like a crude real one.
 */
export function hashedEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const chars = [...text.toLowerCase()];
  for (let n = 2; n <= 3; n++) {
    for (let i = 0; i + n <= chars.length; i++) {
      let hash = 0x811c9dc5;
      for (const char of chars.slice(i, i + n).join('')) {
        hash ^= char.codePointAt(0) ?? 0;
        hash = Math.imul(hash, 0x01000193) >>> 0;
      }
      vector[hash % dimensions]! += hash & 0x80000000 ? -1 : 1;
    }
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

function complete(
  res: ServerResponse,
  body: ChatRequest,
  arrivedAt: number,
  settings: FixedLatencySettings,
  stats: RequestStat[],
): Promise<void> {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const maxTokens = positive(body.max_completion_tokens) ?? positive(body.max_tokens) ?? Infinity;
  const tokens = Math.min(settings.replyTokens, maxTokens);
  const finishReason = tokens < settings.replyTokens ? 'length' : 'stop';
  const stream = body.stream === true;
  const includeUsage = stream && body.stream_options?.include_usage === true;
  const promptTokens = Math.ceil(
    messages.reduce((sum, message) => sum + JSON.stringify(message.content ?? '').length, 0) / 4,
  );
  const stat: RequestStat = {
    key: typeof lastUser?.content === 'string' ? lastUser.content : '',
    stream,
    arrivedAt,
    firstTokenAt: null,
    endedAt: null,
    completionTokens: 0,
    aborted: false,
  };
  stats.push(stat);
  const id = `chatcmpl-${stats.length}`;
  const created = Math.floor(arrivedAt / 1000);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: tokens,
    total_tokens: promptTokens + tokens,
  };
  const interval = 1000 / settings.tokensPerSecond;
  // Token i is due at arrival + TTFT + i intervals, from the arrival: timer lateness does not add up.
  const dueAt = (index: number) => arrivedAt + settings.ttftMs + index * interval;
  const word = (index: number) => WORDS[index % WORDS.length] as string;

  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    res.on('close', () => {
      if (stat.endedAt === null) {
        stat.aborted = true;
        if (timer) clearTimeout(timer);
      }
      resolve();
    });

    if (!stream) {
      timer = setTimeout(
        () => {
          stat.firstTokenAt = dueAt(0);
          stat.completionTokens = tokens;
          stat.endedAt = now();
          json(res, 200, {
            id,
            object: 'chat.completion',
            created,
            model: settings.model,
            choices: [
              {
                index: 0,
                message: {
                  role: 'assistant',
                  content: Array.from({ length: tokens }, (_, i) => word(i)).join(''),
                },
                finish_reason: finishReason,
              },
            ],
            usage,
          });
        },
        Math.max(0, dueAt(Math.max(0, tokens - 1)) - now()),
      );
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      sse(res, {
        id,
        object: 'chat.completion.chunk',
        created,
        model: settings.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    const emit = (index: number): void => {
      if (index < tokens) {
        stat.firstTokenAt ??= now();
        stat.completionTokens = index + 1;
        chunk(index === 0 ? { role: 'assistant', content: word(index) } : { content: word(index) }, null);
        timer = setTimeout(() => emit(index + 1), Math.max(0, dueAt(index + 1) - now()));
        return;
      }
      chunk({}, finishReason);
      if (includeUsage) {
        sse(res, { id, object: 'chat.completion.chunk', created, model: settings.model, choices: [], usage });
      }
      res.write('data: [DONE]\n\n');
      stat.endedAt = now();
      res.end();
    };
    timer = setTimeout(() => emit(0), Math.max(0, dueAt(0) - now()));
  });
}

function sse(res: ServerResponse, payload: unknown): void {
  res.write(`data: ${JSON.stringify(payload)}\n\n`);
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  if (payload === null) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function positive(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

const USAGE = `Usage: node dist/bench/fixed-latency-model/server.js [options]

  --host HOST               (default 127.0.0.1)
  --port PORT               (default 4355)
  --ttft-ms MS              time to first token       (default 200)
  --tokens-per-second N     after the first token     (default 50)
  --reply-tokens N          tokens per reply, capped by the request's max_tokens (default 40)
  --model NAME              model id it answers as    (default fixed-latency)
  --embedding-ms MS         time of each /v1/embeddings request (default 5)
  --embedding-dimensions N  length of its vectors     (default 384)
`;

function main(): void {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4355' },
      'ttft-ms': { type: 'string', default: '200' },
      'tokens-per-second': { type: 'string', default: '50' },
      'reply-tokens': { type: 'string', default: '40' },
      model: { type: 'string', default: 'fixed-latency' },
      'embedding-ms': { type: 'string', default: '5' },
      'embedding-dimensions': { type: 'string', default: '384' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const number = (name: keyof typeof values, min: number) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) {
      process.stderr.write(`fixed-latency-model: --${name} must be a number >= ${min}\n\n${USAGE}`);
      process.exit(2);
    }
    return value;
  };
  const settings: FixedLatencySettings = {
    ttftMs: number('ttft-ms', 0),
    tokensPerSecond: number('tokens-per-second', 0.001),
    replyTokens: Math.floor(number('reply-tokens', 1)),
    model: values.model ?? 'fixed-latency',
    embeddingMs: number('embedding-ms', 0),
    embeddingDimensions: Math.floor(number('embedding-dimensions', 1)),
  };
  const { server } = createFixedLatencyServer(settings);
  const port = number('port', 0);
  server.listen(port, values.host, () => {
    process.stdout.write(
      `fixed-latency model on http://${values.host}:${port} ${JSON.stringify(settings)}\n`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main();
