import { randomUUID } from 'node:crypto';
import { InboxRepository } from '@libs/event-store';
import { createTestDatabase, waitFor, type TestDatabase } from '@test/support';

jest.setTimeout(30_000);

let db: TestDatabase;
let inbox: InboxRepository;

beforeAll(async () => {
  db = await createTestDatabase('inbox');
  inbox = new InboxRepository(db.dataSource);
});

afterAll(async () => {
  await db?.drop();
});

async function processedRows(consumer: string, eventId: string): Promise<number> {
  const rows: { n: number }[] = await db.dataSource.query(
    `SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1 AND event_id = $2`,
    [consumer, eventId],
  );
  return rows[0]?.n ?? 0;
}

/** Sessions of this suite's database blocked on a row lock, seen from the server itself. */
async function sessionsWaitingOnLocks(): Promise<number> {
  const rows: { n: number }[] = await db.dataSource.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
    [db.name],
  );
  return rows[0]?.n ?? 0;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('InboxRepository.once', () => {
  it('runs the effect the first time and returns false without running it on a redelivery', async () => {
    const eventId = randomUUID();
    const effect = jest.fn(async () => undefined);

    expect(await inbox.once('audit', eventId, effect)).toBe(true);
    expect(await inbox.once('audit', eventId, effect)).toBe(false);
    expect(await inbox.once('audit', eventId, effect)).toBe(false);

    expect(effect).toHaveBeenCalledTimes(1);
    expect(await processedRows('audit', eventId)).toBe(1);
  });

  it('keeps consumers apart: another consumer handles the same event too', async () => {
    const eventId = randomUUID();
    const effect = jest.fn(async () => undefined);

    expect(await inbox.once('audit', eventId, effect)).toBe(true);
    expect(await inbox.once('retrieval', eventId, effect)).toBe(true);

    expect(effect).toHaveBeenCalledTimes(2);
  });

  it('forgets an event whose effect failed, so the redelivery runs it again', async () => {
    const eventId = randomUUID();
    const failing = jest.fn(async () => {
      throw new Error('index unavailable');
    });
    const succeeding = jest.fn(async () => undefined);

    await expect(inbox.once('retrieval', eventId, failing)).rejects.toThrow('index unavailable');
    expect(await processedRows('retrieval', eventId)).toBe(0);

    expect(await inbox.once('retrieval', eventId, succeeding)).toBe(true);
    expect(succeeding).toHaveBeenCalledTimes(1);
    expect(await processedRows('retrieval', eventId)).toBe(1);
  });

  it('runs the effect once when the same event is delivered to several workers at the same time', async () => {
    const eventId = randomUUID();
    const gate = deferred();
    const effect = jest.fn(() => gate.promise);

    const calls = Array.from({ length: 5 }, () => inbox.once('audit', eventId, effect));
    try {
      // The first holds the row while its effect runs; the other four must be queued behind it.
      await waitFor(
        'four deliveries blocked on the first one',
        async () => (await sessionsWaitingOnLocks()) === 4,
      );
    } finally {
      gate.resolve();
    }
    const results = await Promise.all(calls);

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(effect).toHaveBeenCalledTimes(1);
  });

  it('lets a waiting redelivery run the effect when the first attempt fails while it waits', async () => {
    const eventId = randomUUID();
    const gate = deferred();
    const calls: string[] = [];
    const first = inbox.once('audit', eventId, async () => {
      calls.push('first');
      await gate.promise;
      throw new Error('crashed half-way');
    });
    let second: Promise<boolean> | undefined;
    try {
      await waitFor('the first effect to start', () => calls.length === 1);
      second = inbox.once('audit', eventId, async () => {
        calls.push('second');
      });
      await waitFor(
        'the redelivery to wait on the first',
        async () => (await sessionsWaitingOnLocks()) === 1,
      );
    } finally {
      gate.resolve();
    }

    await expect(first).rejects.toThrow('crashed half-way');
    expect(await second).toBe(true);
    expect(calls).toEqual(['first', 'second']);
    expect(await processedRows('audit', eventId)).toBe(1);
  });

  it("gives the effect its transaction: the effect's write and the handled mark commit or roll back together", async () => {
    await db.dataSource.query('CREATE TABLE IF NOT EXISTS inbox_effects (event_id uuid PRIMARY KEY)');
    const committed = randomUUID();
    const rolledBack = randomUUID();
    const written = async (eventId: string): Promise<number> => {
      const rows: unknown[] = await db.dataSource.query('SELECT 1 FROM inbox_effects WHERE event_id = $1', [
        eventId,
      ]);
      return rows.length;
    };

    await inbox.once('projector', committed, async (tx) => {
      await tx.query('INSERT INTO inbox_effects (event_id) VALUES ($1)', [committed]);
    });
    await expect(
      inbox.once('projector', rolledBack, async (tx) => {
        await tx.query('INSERT INTO inbox_effects (event_id) VALUES ($1)', [rolledBack]);
        throw new Error('crashed after writing');
      }),
    ).rejects.toThrow('crashed after writing');

    expect([await written(committed), await processedRows('projector', committed)]).toEqual([1, 1]);
    expect([await written(rolledBack), await processedRows('projector', rolledBack)]).toEqual([0, 0]);
  });

  it('refuses an event id that is not a uuid', async () => {
    const effect = jest.fn(async () => undefined);

    await expect(inbox.once('audit', 'not-a-uuid', effect)).rejects.toThrow();

    expect(effect).not.toHaveBeenCalled();
  });
});
