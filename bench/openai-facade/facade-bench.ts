/**
 * The edge's cost (issue 11): what the gateway adds per request with authentication and rate limits on,
 * and what a chat completion through the OpenAI facade costs beyond calling the model server directly.
 * The five services run from dist/ against the fixed-latency model server (bench/fixed-latency-model),
 * so the model's share is known; everything on loopback, one machine.
 *
 *   npm run build && npm run bench:facade [-- --base-port 4450 --requests 2000 --chats 30]
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { DataSource } from 'typeorm';
import { PostgresEventStore, TenantSettingsStreams } from '@libs/event-store';
import { answerEveryMessage } from '@test/support';
import { startEngine, type Engine, type ModelSettings } from '../turn-latency/engine-mode';
import { distribution, fmt, type Distribution } from '../turn-latency/statistics';

const MODEL: ModelSettings = { ttftMs: 200, tokensPerSecond: 50, replyTokens: 40 };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'base-port': { type: 'string', default: '4450' },
      requests: { type: 'string', default: '2000' },
      chats: { type: 'string', default: '30' },
    },
  });
  const requests = Number(values.requests);
  const chats = Number(values.chats);
  process.stderr.write(`starting the engine on ports ${values['base-port']}+ ...\n`);
  const engine = await startEngine(Number(values['base-port']), MODEL);
  try {
    await prepareTenant(engine);
    const lines: string[] = [];
    lines.push(...(await gatewayOverhead(engine, requests)));
    lines.push('', ...(await facadeOverhead(engine, chats)));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await engine.stop();
  }
}

/**
 * The bench tenant answers every message with the model (one slot-free intent); its limits stay on
 * (every request is counted in PostgreSQL) but are high enough never to refuse the load.
 */
async function prepareTenant(engine: Engine): Promise<void> {
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.pathname = `/${engine.database}`;
  const db = new DataSource({ type: 'postgres', url: url.toString() });
  await db.initialize();
  try {
    await answerEveryMessage(db, 'bench', ['Do you ship to Canada?', '能开发票吗']);
    const high = { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 };
    await new TenantSettingsStreams(new PostgresEventStore(db)).execute('bench', {
      type: 'replace-limits',
      eventId: randomUUID(),
      limits: { tenant: high, perKey: high },
    });
  } finally {
    await db.destroy();
  }
}

async function timed(concurrency: number, total: number, call: () => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t0 = performance.now();
        await call();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latency: distribution(latencies), perSecond: total / ((performance.now() - started) / 1000) };
}

const row = (name: string, d: Distribution, extra: string) =>
  `| ${name} | ${fmt(d.p50)} | ${fmt(d.p95)} | ${fmt(d.p99)} | ${extra} |`;

async function gatewayOverhead(engine: Engine, requests: number): Promise<string[]> {
  const expect200 = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${engine.baseUrl}${path}`, { headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  };
  const auth = { authorization: `Bearer ${engine.apiKey}` };
  const routes: [string, () => Promise<void>][] = [
    ['`GET /healthz` (no auth, no limits)', () => expect200('/healthz')],
    ['`GET /v1/models` (auth + requests limit)', () => expect200('/v1/models', auth)],
  ];
  for (const [, call] of routes) await timed(4, 200, call); // warm-up: JIT, pools, key cache
  const lines = [
    `### Gateway overhead per request (${requests} requests per row, loopback)`,
    '',
    '| route | concurrency | p50 ms | p95 ms | p99 ms | requests/s |',
    '|---|---|---|---|---|---|',
  ];
  const medians: Record<string, number> = {};
  for (const concurrency of [1, 16]) {
    for (const [name, call] of routes) {
      const result = await timed(concurrency, requests, call);
      medians[`${name}@${concurrency}`] = result.latency.p50 ?? 0;
      lines.push(row(`${name} | ${concurrency}`, result.latency, result.perSecond.toFixed(0)));
    }
  }
  const metrics = await (await fetch(`${engine.baseUrl}/metrics`)).text();
  const sum = Number(
    /convo_rate_limit_check_seconds_sum\{[^}]*limit="requests"[^}]*\} (\S+)/.exec(metrics)?.[1],
  );
  const count = Number(
    /convo_rate_limit_check_seconds_count\{[^}]*limit="requests"[^}]*\} (\S+)/.exec(metrics)?.[1],
  );
  lines.push(
    '',
    `Mean rate-limit check (two counters upserted in PostgreSQL, \`convo_rate_limit_check_seconds\`): ` +
      `${((sum / count) * 1000).toFixed(2)} ms over ${count} requests. Auth + limits at concurrency 1: ` +
      `+${(medians[`${routes[1]![0]}@1`]! - medians[`${routes[0]![0]}@1`]!).toFixed(2)} ms at the median.`,
  );
  return lines;
}

async function facadeOverhead(engine: Engine, chats: number): Promise<string[]> {
  const direct = new OpenAI({ baseURL: `${engine.modelUrl}/v1`, apiKey: 'none', maxRetries: 0 });
  const facade = new OpenAI({ baseURL: `${engine.baseUrl}/v1`, apiKey: engine.apiKey, maxRetries: 0 });
  const ask = (client: OpenAI, model: string, n: number) =>
    client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: `Do you ship to Canada? (${n})` }],
    });
  const askStreamed = async (client: OpenAI, model: string, n: number) => {
    const t0 = performance.now();
    let first: number | null = null;
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: `Do you ship to Canada? (${n})` }],
      stream: true,
    });
    for await (const chunk of stream) {
      if (first === null && chunk.choices[0]?.delta.content) first = performance.now() - t0;
    }
    return { first, total: performance.now() - t0 };
  };
  // Warm-up: the first turns load the tenant's settings and embed its intent examples.
  for (let n = 0; n < 3; n++) await ask(facade, 'convo-engine', -n);

  const results: Record<string, { first: (number | null)[]; total: number[] }> = {};
  for (const [name, client, model] of [
    ['model server directly', direct, 'fixed-latency'],
    ['OpenAI facade (one-turn conversation)', facade, 'convo-engine'],
  ] as const) {
    const plain: number[] = [];
    const streamed = { first: [] as (number | null)[], total: [] as number[] };
    for (let n = 0; n < chats; n++) {
      const t0 = performance.now();
      await ask(client, model, n);
      plain.push(performance.now() - t0);
      const { first, total } = await askStreamed(client, model, n);
      streamed.first.push(first);
      streamed.total.push(total);
    }
    results[`${name}|unstreamed`] = { first: [], total: plain };
    results[`${name}|streamed`] = streamed;
  }
  const lines = [
    `### OpenAI facade against the model server directly (${chats} chats each, one at a time)`,
    '',
    `Fixed-latency model: first token after ${MODEL.ttftMs} ms, ${MODEL.tokensPerSecond} tokens/s, ` +
      `${MODEL.replyTokens} tokens a reply. The facade's calls run a whole engine turn (message appended, ` +
      'sessions, retrieval, intent, reply through inference, events back over Kafka), one-turn ' +
      'conversations closed after the answer.',
    '',
    '| path | measure | p50 ms | p95 ms | p99 ms | mean ms |',
    '|---|---|---|---|---|---|',
  ];
  for (const [key, value] of Object.entries(results)) {
    const [name, mode] = key.split('|');
    const total = distribution(value.total);
    lines.push(row(`${name} | ${mode}: complete`, total, fmt(total.mean)));
    if (mode === 'streamed') {
      const first = distribution(value.first);
      lines.push(row(`${name} | streamed: first content`, first, fmt(first.mean)));
    }
  }
  return lines;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
