import { BackendBreakers } from './backend-breakers';

const fail = () => Promise.reject(new Error('connection refused'));
const hang = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));

describe('BackendBreakers', () => {
  it('opens after 5 failures in a row, refuses at once while open, and probes once the time is up', async () => {
    let now = 0;
    jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] });
    const changes: string[] = [];
    const breakers = new BackendBreakers({ timeoutMs: 500, failuresToOpen: 5, openForMs: 30_000 }, (b, s) =>
      changes.push(`${b}:${s}`),
    );
    try {
      for (let i = 0; i < 4; i++) await expect(breakers.run('milvus', fail)).rejects.toThrow('refused');
      expect(breakers.state('milvus')).toBe('closed');
      await expect(breakers.run('milvus', fail)).rejects.toThrow('refused');
      expect(breakers.state('milvus')).toBe('open');

      let called = false;
      await expect(
        breakers.run('milvus', () => {
          called = true;
          return Promise.resolve(1);
        }),
      ).rejects.toThrow(/open/i);
      expect(called).toBe(false);
      expect(breakers.state('elasticsearch')).toBe('closed');

      now += 30_001;
      jest.setSystemTime(now);
      await expect(breakers.run('milvus', () => Promise.resolve('probe'))).resolves.toBe('probe');
      expect(breakers.state('milvus')).toBe('closed');
      expect(changes).toEqual(['milvus:open', 'milvus:half-open', 'milvus:closed']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts a call slower than the timeout as a failure and abandons it', async () => {
    const breakers = new BackendBreakers({ timeoutMs: 20, failuresToOpen: 1, openForMs: 30_000 });

    await expect(breakers.run('embeddings', hang)).rejects.toThrow();
    expect(breakers.state('embeddings')).toBe('open');
  });
});
