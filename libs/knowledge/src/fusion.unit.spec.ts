import { RRF_K, reciprocalRankFusion } from './fusion';

describe('reciprocalRankFusion', () => {
  it('ranks first what both lists rank well, by rank alone', () => {
    const fused = reciprocalRankFusion([
      { weight: 1, ids: ['a', 'b', 'c'] },
      { weight: 1, ids: ['b', 'c', 'd'] },
    ]);

    expect(fused.map((item) => item.id)).toEqual(['b', 'c', 'a', 'd']);
    expect(fused[0]!.score).toBeCloseTo(1 / (RRF_K + 2) + 1 / (RRF_K + 1));
  });

  it('lets a tenant weigh one retriever above the other', () => {
    const lists = (keyword: number, vector: number) =>
      reciprocalRankFusion([
        { weight: keyword, ids: ['k1', 'k2'] },
        { weight: vector, ids: ['v1', 'v2'] },
      ]).map((item) => item.id);

    expect(lists(2, 1)).toEqual(['k1', 'k2', 'v1', 'v2']);
    expect(lists(1, 2)).toEqual(['v1', 'v2', 'k1', 'k2']);
  });

  it('works with one list missing (a backend down) and keeps first-seen order on ties', () => {
    expect(
      reciprocalRankFusion([
        { weight: 1, ids: [] },
        { weight: 1, ids: ['x', 'y'] },
      ]),
    ).toEqual([
      { id: 'x', score: 1 / (RRF_K + 1) },
      { id: 'y', score: 1 / (RRF_K + 2) },
    ]);
    expect(
      reciprocalRankFusion([
        { weight: 1, ids: ['p'] },
        { weight: 1, ids: ['q'] },
      ]).map((i) => i.id),
    ).toEqual(['p', 'q']);
  });
});
