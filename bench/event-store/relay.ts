/**
 * The outbox relay under load, on the stack's real PostgreSQL and Kafka with nothing else running:
 *
 *   backlog   N events appended while no relay runs (a broker or relay outage), then one relay starts:
 *             how fast it empties the outbox onto Kafka (until a consumer has every event)
 *   live      W writers append one event at a time to conversations of their own while the relay
 *             runs: append returned -> the consumer's handler has the event, and the events/s reached
 *
 * The relay is the project's own `OutboxRelay` (batches of 500); the consumer takes messages with
 * the services' settings and does nothing else.
 *   npm run build && node dist/bench/event-store/relay.js [--backlog 20000] [--writers 16] [--live 6000]
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { OutboxReader, PostgresEventStore } from '@libs/event-store';
import { KafkaPublisher, OutboxRelay } from '@libs/messaging';
import { percentile } from '../tools/percentile';
import { startArrivals, type Arrivals } from './arrivals';
import {
  createTenantWithKey,
  createTestDatabase,
  createTestKafka,
  messageReceived,
  started,
  target,
} from '@test/support';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '20000' },
    writers: { type: 'string', default: '16' },
    live: { type: 'string', default: '6000' },
  },
});

const CONVERSATIONS = 200;

async function main(): Promise<void> {
  const backlog = Number(values.backlog);
  const writers = Number(values.writers);
  const live = Number(values.live);
  const db = await createTestDatabase('bench_relay');
  const kafka = await createTestKafka('bench-relay');
  const publisher = new KafkaPublisher(kafka.kafka, kafka.prefix);
  const newRelay = () =>
    new OutboxRelay(new OutboxReader(db.url, 'bench-relay'), publisher, kafka.logger, { batchSize: 500 });
  let arrivals: Arrivals | null = null;
  let relay: OutboxRelay | null = null;
  try {
    await kafka.ensureTopics();
    await createTenantWithKey(db.dataSource, 'bench');
    const store = new PostgresEventStore(db.dataSource);
    await publisher.connect();
    const consumer = await startArrivals(kafka, 'bench-relay');
    arrivals = consumer;

    // Backlog: appended by 8 writers with no relay running.
    const conversations = Array.from({ length: CONVERSATIONS }, () => randomUUID());
    const versions = new Map<string, number>(conversations.map((id) => [id, 0]));
    /** The conversation's next event and the version it follows. */
    const nextOf = (conversationId: string) => {
      const version = versions.get(conversationId)!;
      versions.set(conversationId, version + 1);
      return { version, event: version === 0 ? started() : messageReceived(`relay ${version}`) };
    };
    // Each writer appends to conversations of its own: a conversation's appends never race.
    let appended = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        const own = conversations.filter((_, index) => index % 8 === writer);
        for (let turn = 0; appended < backlog; turn++) {
          appended++;
          const conversationId = own[turn % own.length]!;
          const { version, event } = nextOf(conversationId);
          await store.append(target('bench', conversationId, version), [event]);
        }
      }),
    );
    const drainStart = performance.now();
    relay = newRelay();
    relay.start();
    while (consumer.count() < backlog) await new Promise((resolve) => setTimeout(resolve, 5));
    const drainMs = performance.now() - drainStart;
    console.log(
      `backlog: ${backlog} events on Kafka in ${drainMs.toFixed(0)} ms, ${Math.round((backlog / drainMs) * 1000)} events/s`,
    );

    // Live: each writer appends to conversations of its own, one event after the other arrived.
    const lags: number[] = [];
    let remaining = live;
    const liveStart = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const own = conversations.filter((_, index) => index % writers === writer);
        let turn = 0;
        while (remaining > 0) {
          remaining--;
          const conversationId = own[turn++ % own.length]!;
          const { version, event } = nextOf(conversationId);
          const received = consumer.next(event.eventId);
          await store.append(target('bench', conversationId, version), [event]);
          const returned = performance.now();
          lags.push((await received) - returned);
        }
      }),
    );
    const liveMs = performance.now() - liveStart;
    const sorted = lags.sort((a, b) => a - b);
    const f = (p: number) => percentile(sorted, p).toFixed(1);
    console.log(
      `live: ${writers} writers, ${live} events in ${liveMs.toFixed(0)} ms, ${Math.round((live / liveMs) * 1000)} events/s; ` +
        `append returned -> consumer has it: p50 ${f(50)} / p95 ${f(95)} / p99 ${f(99)} ms`,
    );
  } finally {
    await arrivals?.stop();
    await relay?.stop();
    await publisher.disconnect();
    await kafka.drop();
    await db.drop();
  }
}

void main();
