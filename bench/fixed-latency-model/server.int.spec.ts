import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { createFixedLatencyServer, type Concurrency, type RequestStat } from './server';

/** The fixed-latency server as the inference service reads it: through the `openai` client. */
describe('fixed-latency model server', () => {
  const { server, stats, embeddingStats } = createFixedLatencyServer({
    ttftMs: 5,
    tokensPerSecond: 1000,
    replyTokens: 6,
    model: 'fixed-latency',
    embeddingMs: 2,
    embeddingDimensions: 64,
  });
  let client: OpenAI;
  let baseUrl: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'none', maxRetries: 0 });
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('streams SSE chunks, a finish reason, then usage in a last chunk when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'fixed-latency',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'turn-1' },
      ],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    const finishes: (string | null | undefined)[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice) finishes.push(choice.finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toHaveLength(4); // max_tokens caps the configured 6
    expect(finishes.at(-1)).toBe('length');
    expect(usage).toMatchObject({ completion_tokens: 4 });

    const stat = stats.find((entry) => entry.key === 'turn-1') as RequestStat;
    expect(stat).toMatchObject({ stream: true, completionTokens: 4, aborted: false });
    expect(stat.firstTokenAt).toBeGreaterThanOrEqual(stat.arrivedAt);
    expect(stat.endedAt).toBeGreaterThanOrEqual(stat.firstTokenAt as number);
  });

  it('embeds deterministically: the same text the same unit vector, a near text nearer than another', async () => {
    const { data } = await client.embeddings.create({
      model: 'fixed-latency',
      input: ['where is my order', 'where is my order', 'where is my order?', '我要退款'],
    });
    const [a, same, near, far] = data.map((item) => item.embedding);
    const cosine = (x: number[], y: number[]) => x.reduce((sum, value, i) => sum + value * y[i]!, 0);
    expect(a).toHaveLength(64);
    expect(same).toEqual(a);
    expect(cosine(a!, a!)).toBeCloseTo(1, 6);
    expect(cosine(a!, near!)).toBeGreaterThan(cosine(a!, far!));
    expect(embeddingStats.at(-1)).toMatchObject({ key: 'where is my order', inputs: 4 });
  });

  it('answers without streaming, lists its model and reports its stats', async () => {
    const reply = await client.chat.completions.create({
      model: 'fixed-latency',
      messages: [{ role: 'user', content: 'turn-2' }],
    });
    expect(reply.choices[0]?.finish_reason).toBe('stop');
    expect(reply.usage?.completion_tokens).toBe(6);
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(['fixed-latency']);

    const response = await fetch(`${baseUrl}/stats`);
    const body = (await response.json()) as { requests: RequestStat[]; concurrency: Concurrency };
    expect(body.requests.map((entry) => entry.key)).toEqual(['turn-1', 'turn-2']);
    expect(body.concurrency.max).toBe(1);
    expect((await fetch(`${baseUrl}/stats`, { method: 'DELETE' })).status).toBe(204);
    expect(stats).toHaveLength(0);
  });

  it('counts the completions open at once, the most since the last reset', async () => {
    // A server of its own whose replies take a second: three asked at once are open together even on a
    // loaded machine (with the suite's 11 ms replies, one could end before the third arrived).
    const slow = createFixedLatencyServer({
      ttftMs: 1_000,
      tokensPerSecond: 1000,
      replyTokens: 2,
      model: 'fixed-latency',
      embeddingMs: 2,
      embeddingDimensions: 64,
    });
    await new Promise<void>((resolve) => slow.server.listen(0, '127.0.0.1', resolve));
    try {
      const slowUrl = `http://127.0.0.1:${(slow.server.address() as AddressInfo).port}`;
      const slowClient = new OpenAI({ baseURL: `${slowUrl}/v1`, apiKey: 'none', maxRetries: 0 });
      const ask = (key: string) =>
        slowClient.chat.completions.create({
          model: 'fixed-latency',
          messages: [{ role: 'user', content: key }],
        });
      await Promise.all(['a', 'b', 'c'].map(ask));
      expect(slow.concurrency.max).toBe(3);
      await ask('d');
      expect(slow.concurrency.max).toBe(3);
      await fetch(`${slowUrl}/stats`, { method: 'DELETE' });
      await ask('e');
      expect(slow.concurrency.max).toBe(1);
    } finally {
      await new Promise((resolve) => slow.server.close(resolve));
    }
  });
});
