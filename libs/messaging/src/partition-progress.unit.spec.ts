import { PartitionProgress } from './partition-progress';

describe('PartitionProgress', () => {
  it('commits nothing while the first message is unfinished, however many after it finished', () => {
    const progress = new PartitionProgress();
    ['10', '11', '12'].forEach((offset) => progress.start(offset));

    expect(progress.finish('12')).toBeNull();
    expect(progress.finish('11')).toBeNull();
    expect(progress.pending).toBe(3);
  });

  it('commits past the whole finished prefix once its first message finishes', () => {
    const progress = new PartitionProgress();
    ['10', '11', '12', '13'].forEach((offset) => progress.start(offset));
    progress.finish('12');
    progress.finish('11');

    expect(progress.finish('10')).toBe('13');
    expect(progress.pending).toBe(1);
    expect(progress.finish('13')).toBe('14');
  });

  it('commits message by message when they finish in order', () => {
    const progress = new PartitionProgress();
    progress.start('0');
    progress.start('1');

    expect(progress.finish('0')).toBe('1');
    expect(progress.finish('1')).toBe('2');
  });

  it('handles offsets past 2^53 exactly', () => {
    const progress = new PartitionProgress();
    progress.start('9007199254740993');

    expect(progress.finish('9007199254740993')).toBe('9007199254740994');
  });
});
