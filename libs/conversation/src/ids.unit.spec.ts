import { z } from 'zod';
import { derivedId } from './ids';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('derivedId', () => {
  // Reference values from an independent RFC 9562 implementation (the `uuid` package's v5) with the
  // engine namespace 6f1c1e7a-3b2d-4c9e-8a51-d0c3b7e2f4a9 and parts joined by U+001F. If these change,
  // every id derived by a released version changes too, and redelivered reactions stop de-duplicating.
  it.each([
    [['hello'], 'ec469c51-fbd3-518d-8424-539995641004'],
    [['turn', 'c', 'm1'], '040de314-80b7-5db4-81c4-7f9fed8969e4'],
    [['中文'], '9d6e146c-3e1e-5b04-b0ee-84508328ca57'],
  ])('given parts %j, then it is the RFC UUIDv5 %s', (parts, expected) => {
    expect(derivedId(...parts)).toBe(expected);
  });

  it('is stable: the same parts give the same id every time', () => {
    const parts = ['turn', '0c0c0c0c-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002'];

    expect(derivedId(...parts)).toBe(derivedId(...[...parts]));
  });

  it('is a valid version-5, RFC-variant uuid for many inputs (also per the contracts uuid schema)', () => {
    const inputs = Array.from({ length: 200 }, (_, i) => [`part-${i}`, String(i * 7919), 'x'.repeat(i % 13)]);

    for (const parts of inputs) {
      const id = derivedId(...parts);
      expect(id).toMatch(UUID_V5);
      expect(z.uuid().safeParse(id).success).toBe(true);
    }
  });

  it('differs for different parts (no collisions across a sample)', () => {
    const ids = new Set(Array.from({ length: 500 }, (_, i) => derivedId('turn', String(i))));

    expect(ids.size).toBe(500);
  });

  it.each([
    [
      ['a', 'bc'],
      ['ab', 'c'],
    ],
    [['a', 'b'], ['ab']],
    [
      ['a', 'b'],
      ['b', 'a'],
    ],
    [
      ['turn', 'x'],
      ['turn', 'x', ''],
    ],
  ])('respects part boundaries and order: %j differs from %j', (left, right) => {
    expect(derivedId(...left)).not.toBe(derivedId(...right));
  });
});
