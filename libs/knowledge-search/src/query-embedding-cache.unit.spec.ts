import { QueryEmbeddingCache, normaliseQuery } from './query-embedding-cache';

describe('QueryEmbeddingCache', () => {
  it('finds a query again under its normalised text', () => {
    const cache = new QueryEmbeddingCache(10);
    cache.set('退货  要多久？', [1, 2]);
    expect(cache.get(' 退货 要多久?')).toEqual([1, 2]);
    expect(cache.get('Return window')).toBeUndefined();
  });

  it('drops the least recently used entry when full', () => {
    const cache = new QueryEmbeddingCache(2);
    cache.set('a', [1]);
    cache.set('b', [2]);
    cache.get('a');
    cache.set('c', [3]);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual([1]);
    expect(cache.get('c')).toEqual([3]);
    expect(cache.size).toBe(2);
  });

  it('keeps nothing at size 0', () => {
    const cache = new QueryEmbeddingCache(0);
    cache.set('a', [1]);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('normaliseQuery', () => {
  it('folds full-width forms and whitespace but keeps case', () => {
    expect(normaliseQuery('\tＡＢＣ１２３？\n  Apple ')).toBe('ABC123? Apple');
  });
});
