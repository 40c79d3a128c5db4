import { percentile, sameText, score, scoreSlots } from './metrics';

describe('intent evaluation scores', () => {
  it('macro-F1 weighs every label the same and the confusion matrix counts each pair', () => {
    const result = score(
      ['a', 'b', 'c'],
      [
        { gold: 'a', predicted: 'a' },
        { gold: 'a', predicted: 'a' },
        { gold: 'a', predicted: 'b' },
        { gold: 'b', predicted: 'b' },
        { gold: 'c', predicted: 'a' },
      ],
    );

    // a: P 2/3, R 2/3; b: P 1/2, R 1; c: no hit.
    expect(result.perLabel.map((each) => Number(each.f1.toFixed(4)))).toEqual([0.6667, 0.6667, 0]);
    expect(result.macroF1).toBeCloseTo(4 / 9, 6);
    expect(result.accuracy).toBeCloseTo(3 / 5, 6);
    expect(result.confusion).toEqual({ a: { a: 2, b: 1 }, b: { b: 1 }, c: { a: 1 } });
  });

  it('scores slots by precision over what was found and recall over what was labelled', () => {
    const { perSlot, linesAllRight } = scoreSlots(
      ['order_id', 'date'],
      [
        { gold: { order_id: 'E1', date: null }, found: { order_id: 'E1', date: null } },
        { gold: { order_id: 'E2', date: '2026-11-29' }, found: { order_id: 'E3', date: '2026-11-29' } },
        { gold: { order_id: null, date: null }, found: { order_id: null, date: '2026-11-30' } },
      ],
      (_slot, gold, found) => gold === found,
    );

    expect(perSlot).toEqual([
      { slot: 'order_id', gold: 2, found: 2, correct: 1, precision: 0.5, recall: 0.5 },
      { slot: 'date', gold: 1, found: 2, correct: 1, precision: 0.5, recall: 1 },
    ]);
    expect(linesAllRight).toBe(1);
  });

  it('takes a reason that says the labelled span, not the whole message', () => {
    expect(sameText('屏幕有裂痕', '屏幕有裂痕了')).toBe(true);
    expect(sameText('arrived broken', 'it arrived broken')).toBe(true);
    expect(
      sameText('arrived broken', 'Order E20261130123456 arrived broken yesterday, I want my money back'),
    ).toBe(false);
    expect(sameText('太小了', '')).toBe(false);
  });

  it('percentiles by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([], 95)).toBeNull();
  });
});
