import { fromBase64 } from './embedder';

describe('fromBase64', () => {
  it('reads little-endian float32s, as OpenAI-compatible servers encode embeddings', () => {
    const floats = new Float32Array([0.5, -1.25, 3.0000001, 0]);
    const encoded = Buffer.from(floats.buffer).toString('base64');

    expect(fromBase64(encoded)).toEqual(Array.from(floats));
  });

  it('refuses bytes that are not whole float32s', () => {
    expect(() => fromBase64(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/not float32s/);
  });
});
