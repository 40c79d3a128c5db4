import { AppError } from '@contracts';
import { ModelDispatcher } from './model-dispatcher';

/** A call that runs until the test ends it, recording when it started. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('ModelDispatcher', () => {
  it('runs at most `slots` calls at once and starts the next when one ends', async () => {
    const dispatcher = new ModelDispatcher({ slots: 2, maxQueuedPerTenant: 10 });
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const calls = gates.map((each, i) =>
      dispatcher.run('acme', async () => {
        started.push(i);
        await each.done;
      }),
    );
    await settle();

    expect(started).toEqual([0, 1]);
    expect(dispatcher.inFlight).toBe(2);
    expect(dispatcher.queued).toBe(1);

    gates[0]!.open();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.open();
    gates[2]!.open();
    await Promise.all(calls);
    expect(dispatcher.inFlight).toBe(0);
  });

  it('serves waiting tenants in turn, and each tenant in order of arrival', async () => {
    const dispatcher = new ModelDispatcher({ slots: 1, maxQueuedPerTenant: 10 });
    const first = gate();
    const order: string[] = [];
    const blocker = dispatcher.run('busy', () => first.done);
    const calls = [
      ...['a1', 'a2', 'a3', 'a4'].map((name) => dispatcher.run('a', async () => void order.push(name))),
      ...['b1', 'b2'].map((name) => dispatcher.run('b', async () => void order.push(name))),
    ];
    await settle();

    first.open();
    await Promise.all([blocker, ...calls]);

    expect(order).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'a4']);
  });

  it('refuses a call beyond a tenant’s queue bound as a retryable outage, without touching other tenants', async () => {
    const dispatcher = new ModelDispatcher({ slots: 1, maxQueuedPerTenant: 1 });
    const first = gate();
    const blocker = dispatcher.run('a', () => first.done);
    const queued = dispatcher.run('a', () => Promise.resolve('ran'));

    await expect(dispatcher.run('a', () => Promise.resolve('x'))).rejects.toEqual(
      expect.objectContaining({ code: 'dependency-unavailable' }),
    );
    await expect(dispatcher.run('a', () => Promise.resolve('x'))).rejects.toBeInstanceOf(AppError);
    const other = dispatcher.run('b', () => Promise.resolve('b ran'));
    first.open();
    await expect(Promise.all([blocker, queued, other])).resolves.toEqual([undefined, 'ran', 'b ran']);
  });

  it('gives up a wait when its deadline passes, and the slot goes to the next caller', async () => {
    const dispatcher = new ModelDispatcher({ slots: 1, maxQueuedPerTenant: 10 });
    const first = gate();
    const blocker = dispatcher.run('a', () => first.done);
    const deadline = new AbortController();
    const abandoned = dispatcher.run('a', () => Promise.resolve('late'), deadline.signal);
    const next = dispatcher.run('b', () => Promise.resolve('next'));

    deadline.abort(new Error('deadline'));
    await expect(abandoned).rejects.toThrow('deadline');
    expect(dispatcher.queued).toBe(1);
    first.open();
    await expect(next).resolves.toBe('next');
    await blocker;
  });

  it('frees the slot when a call fails', async () => {
    const dispatcher = new ModelDispatcher({ slots: 1, maxQueuedPerTenant: 10 });

    await expect(dispatcher.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(dispatcher.run('a', () => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
