import { Embedder, fromBase64 } from './embedder';

const asBase64 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');

/** A server that answers each request with `answer(texts)`, recording the request bodies. */
function serve(answer: (texts: string[]) => unknown[]) {
  const bodies: Record<string, unknown>[] = [];
  const fetchStub = jest.fn((_url: string, init: { body: string }) => {
    const body = JSON.parse(init.body) as { input: string[] };
    bodies.push(body);
    const data = answer(body.input).map((embedding, index) => ({ index, embedding }));
    return Promise.resolve(new Response(JSON.stringify({ data }), { status: 200 }));
  });
  jest.spyOn(globalThis, 'fetch').mockImplementation(fetchStub as unknown as typeof fetch);
  return bodies;
}

const embedder = (dimensions?: number) =>
  new Embedder({ baseUrl: 'http://embeddings.test/v1/', apiKey: 'k', model: 'e5', dimensions });

afterEach(() => jest.restoreAllMocks());

describe('Embedder', () => {
  it('asks for base64 float32 vectors, marked as queries or passages, and decodes them', async () => {
    const bodies = serve((texts) => texts.map((_, i) => asBase64([i, 0.5])));

    await expect(embedder(2).embedQueries(['a', 'b'])).resolves.toEqual([
      [0, 0.5],
      [1, 0.5],
    ]);
    await embedder(2).embedPassages(['c']);
    expect(bodies).toEqual([
      { model: 'e5', input: ['a', 'b'], input_type: 'query', encoding_format: 'base64' },
      { model: 'e5', input: ['c'], input_type: 'passage', encoding_format: 'base64' },
    ]);
  });

  it('reads a server that ignores encoding_format and sends arrays', async () => {
    serve((texts) => texts.map(() => [0.25, -1]));

    await expect(embedder().embedQuery('a')).resolves.toEqual([0.25, -1]);
  });

  it('sends at most 32 texts a request, and keeps their order', async () => {
    const bodies = serve((texts) => texts.map((text) => [Number(text)]));
    const texts = Array.from({ length: 70 }, (_, i) => String(i));

    const vectors = await embedder(1).embedQueries(texts);

    expect(bodies.map((body) => (body.input as string[]).length)).toEqual([32, 32, 6]);
    expect(vectors.map(([value]) => value)).toEqual(texts.map(Number));
  });

  it('sends nothing for no texts', async () => {
    const bodies = serve(() => []);

    await expect(embedder().embedQueries([])).resolves.toEqual([]);
    expect(bodies).toHaveLength(0);
  });

  it('refuses vectors of another dimension, or of different lengths when none is configured', async () => {
    serve((texts) => texts.map((_, i) => (i === 0 ? [1, 2, 3] : [1, 2])));

    await expect(embedder(3).embedQueries(['a'])).resolves.toEqual([[1, 2, 3]]);
    await expect(embedder(2).embedQueries(['a'])).rejects.toThrow(/3 dimensions, expected 2/);
    await expect(embedder().embedQueries(['a', 'b'])).rejects.toThrow(/2 dimensions, expected 3/);
  });

  it('refuses an answer with fewer vectors than texts', async () => {
    serve(() => [[1]]);

    await expect(embedder().embedQueries(['a', 'b'])).rejects.toThrow(/returned 1 vectors for 2 inputs/);
  });
});

describe('fromBase64', () => {
  it('reads little-endian float32s, as OpenAI-compatible servers encode embeddings', () => {
    const floats = new Float32Array([0.5, -1.25, 3.0000001, 0]);

    expect(fromBase64(Buffer.from(floats.buffer).toString('base64'))).toEqual(Array.from(floats));
  });

  it('refuses bytes that are not whole float32s', () => {
    expect(() => fromBase64(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/not float32s/);
  });
});
