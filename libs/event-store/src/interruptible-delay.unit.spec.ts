import { InterruptibleDelay } from './interruptible-delay';

describe('InterruptibleDelay', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits its time, or less when interrupted; an interrupt with no wait in progress is not kept', async () => {
    const delay = new InterruptibleDelay();
    const order: string[] = [];
    void delay.wait(1_000).then(() => order.push('timed out'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual(['timed out']);

    delay.interrupt(); // nobody waits: nothing to cut short
    void delay.wait(1_000).then(() => order.push('interrupted'));
    await jest.advanceTimersByTimeAsync(10);
    expect(order).toEqual(['timed out']);
    delay.interrupt();
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['timed out', 'interrupted']);
  });

  it('once closed, ends the current wait and returns at once from every later one (a loop stopping mid-round)', async () => {
    const delay = new InterruptibleDelay();
    const order: string[] = [];
    void delay.wait(60_000).then(() => order.push('current'));
    delay.close();
    await jest.advanceTimersByTimeAsync(0);
    void delay.wait(60_000).then(() => order.push('later'));
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['current', 'later']);
  });
});
