import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  PostgresEventStore,
  START_OF_STORE,
  type GlobalPosition,
  type RecordedEvent,
} from '@libs/event-store';
import {
  createTenantWithKey,
  createTestDatabase,
  messageReceived,
  started,
  target,
  waitFor,
  type TestDatabase,
} from '@test/support';

jest.setTimeout(60_000);

const TENANT = 'acme';
let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('read_all');
  await createTenantWithKey(db.dataSource, TENANT);
  store = new PostgresEventStore(db.dataSource);
});

afterAll(async () => {
  await db?.drop();
});

/** Everything read-all shows after `from`, in pages, as a subscription would follow it. */
async function follow(
  from: GlobalPosition,
  pageSize = 7,
): Promise<{ events: RecordedEvent[]; last: GlobalPosition }> {
  const events: RecordedEvent[] = [];
  let last = from;
  for (;;) {
    const page = await store.readAll(last, pageSize);
    if (page.length === 0) return { events, last };
    events.push(...page);
    last = page.at(-1)!.position;
  }
}

async function conversationWith(messages: number): Promise<string> {
  const conversationId = randomUUID();
  await store.append(target(TENANT, conversationId, 0), [
    started(),
    ...Array.from({ length: messages }, (_, index) => messageReceived(`m${index}`)),
  ]);
  return conversationId;
}

/** A second session holding a transaction open, as a slow append still in flight would. */
async function openTransaction(): Promise<Client> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT pg_current_xact_id()'); // it now has a transaction id, like a writer
  return client;
}

describe('EventStore.readAll', () => {
  it('returns every event of every stream once, in pages, each with its stored and its upcast form', async () => {
    const before = await follow(START_OF_STORE);
    const a = await conversationWith(3);
    const b = await conversationWith(2);

    const { events } = await follow(before.last, 2);

    expect(events.map(({ event }) => event.eventId)).toHaveLength(7);
    expect(
      new Set(events.map(({ event }) => ('conversationId' in event ? event.conversationId : ''))),
    ).toEqual(new Set([a, b]));
    for (const { stored, event } of events) expect(event).toEqual(stored); // current versions: no change
  });

  it('hides events committed after a transaction that is still running, then shows them in commit-safe order', async () => {
    const { last } = await follow(START_OF_STORE);
    const inFlight = await openTransaction();
    try {
      const later = await conversationWith(1); // commits while `inFlight` is still open

      // Nothing may be shown yet: `inFlight` could still write an event that sorts before it.
      expect(await store.readAll(last, 100)).toEqual([]);

      await inFlight.query('COMMIT');
      const { events } = await follow(last);
      expect(events.map(({ event }) => ('conversationId' in event ? event.conversationId : ''))).toEqual([
        later,
        later,
      ]);
    } finally {
      await inFlight.end();
    }
  });

  it('never skips an event whose transaction began first but committed last (the classic gap)', async () => {
    const { last: start } = await follow(START_OF_STORE);
    // A writer takes its transaction id, then writes an event and waits before committing.
    const slow = await openTransaction();
    const slowConversation = randomUUID();
    await slow.query(
      `INSERT INTO streams (tenant_id, stream_id, kind, version) VALUES ($1, $2, 'conversation', 1)`,
      [TENANT, slowConversation],
    );
    const pending = started();
    await slow.query(
      `INSERT INTO events (event_id, tenant_id, stream_id, sequence, type, occurred_at, causation_id, correlation_id, data)
       VALUES ($1, $2, $3, 1, $4, now(), NULL, $5, $6)`,
      [pending.eventId, TENANT, slowConversation, pending.type, randomUUID(), JSON.stringify(pending.data)],
    );
    // Meanwhile fast writers commit several events, and a follower keeps reading after its checkpoint.
    const fast = await conversationWith(2);
    const seen = await follow(start);
    await slow.query('COMMIT');
    await slow.end();
    // Visible once no older transaction in the cluster still runs (another suite's may, for a moment).
    const restEvents: RecordedEvent[] = [];
    let checkpoint = seen.last;
    await waitFor('the slow writer’s and the fast writers’ events', async () => {
      const page = await follow(checkpoint);
      restEvents.push(...page.events);
      checkpoint = page.last;
      return seen.events.length + restEvents.length >= 4;
    });
    const rest = { events: restEvents };

    const all = [...seen.events, ...rest.events].map(({ event }) => event.eventId);
    expect(all).toContain(pending.eventId);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(4);
    const fastIds = rest.events.filter(
      ({ event }) => 'conversationId' in event && event.conversationId === fast,
    );
    // Ordered by transaction: the slow writer's event comes first, though its row was committed last.
    expect(rest.events[0]?.event.eventId).toBe(pending.eventId);
    expect(fastIds).toHaveLength(3);
  });

  it('holds up under concurrent appends: a follower reading throughout sees each event exactly once', async () => {
    const { last: start } = await follow(START_OF_STORE);
    const seen: string[] = [];
    let checkpoint = start;
    let writing = true;
    const follower = (async () => {
      while (writing) {
        const page = await store.readAll(checkpoint, 50);
        for (const { event, position } of page) {
          seen.push(event.eventId);
          checkpoint = position;
        }
      }
    })();
    const conversations = await Promise.all(Array.from({ length: 20 }, () => conversationWith(4)));
    writing = false;
    await follower;
    const rest = await follow(checkpoint);
    seen.push(...rest.events.map(({ event }) => event.eventId));

    const rows: { event_id: string }[] = await db.dataSource.query(
      'SELECT event_id FROM events WHERE stream_id = ANY($1::text[])',
      [conversations],
    );
    expect(seen).toHaveLength(rows.length);
    expect(new Set(seen)).toEqual(new Set(rows.map((row) => row.event_id)));
  });
});
