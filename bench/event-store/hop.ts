/**
 * One Kafka hop in isolation, on the stack's real PostgreSQL and Kafka and nothing else running: an
 * event appended to a conversation until a consumer's handler has it, split into its stages.
 *
 *   append             the store's one-statement append (events, outbox rows, NOTIFY) until it returns
 *   to relay           append returned -> the relay starts publishing (NOTIFY delivered, outbox read)
 *   produce → handler  the relay's produce request starts -> the consumer's handler is called
 *   (produce acked)    the produce request until the broker's acknowledgement reaches the relay
 *                      (acks=all); the consumer may have the event before that
 *
 * The relay and the consumer are the project's own (`OutboxRelay`, `KafkaEventServer`'s consumer
 * settings); events are appended one at a time, each after the previous one arrived.
 *   npm run build && node dist/bench/event-store/hop.js [--events 300] [--warm-up 30]
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { OutboxReader, PostgresEventStore } from '@libs/event-store';
import { KafkaPublisher, OutboxRelay, type Publication } from '@libs/messaging';
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
    events: { type: 'string', default: '300' },
    'warm-up': { type: 'string', default: '30' },
  },
});

const STAGES = ['append', 'to relay', 'produce → handler', '(produce acked)', 'whole hop'] as const;
type Stage = (typeof STAGES)[number];

/** The relay's publisher, noting when each event's produce started and was acknowledged. */
class TimedPublisher extends KafkaPublisher {
  readonly started = new Map<string, number>();
  readonly acknowledged = new Map<string, Promise<number>>();

  override publish(publications: Publication[]): Promise<void> {
    const began = performance.now();
    for (const { event } of publications) this.started.set(event.eventId, began);
    const published = super.publish(publications);
    const acknowledged = published.then(() => performance.now());
    for (const { event } of publications) this.acknowledged.set(event.eventId, acknowledged);
    return published;
  }
}

async function main(): Promise<void> {
  const total = Number(values.events);
  const warmUp = Number(values['warm-up']);
  const db = await createTestDatabase('bench_hop');
  const kafka = await createTestKafka('bench-hop');
  const publisher = new TimedPublisher(kafka.kafka, kafka.prefix);
  const relay = new OutboxRelay(new OutboxReader(db.url, 'bench-hop-relay'), publisher, kafka.logger);
  let arrivals: Arrivals | null = null;
  try {
    await kafka.ensureTopics();
    await createTenantWithKey(db.dataSource, 'bench');
    const store = new PostgresEventStore(db.dataSource);
    await publisher.connect();
    relay.start();
    const consumer = await startArrivals(kafka, 'bench-hop', { autoCommitThreshold: 1 });
    arrivals = consumer;

    const conversationId = randomUUID();
    let version = 0;
    const appendAndWait = async () => {
      const event = version === 0 ? started() : messageReceived(`hop ${version}`);
      const received = consumer.next(event.eventId);
      const t0 = performance.now();
      await store.append(target('bench', conversationId, version), [event]);
      const t1 = performance.now();
      const handled = await received;
      version++;
      const produced = publisher.started.get(event.eventId)!;
      const acknowledged = await publisher.acknowledged.get(event.eventId)!;
      return {
        append: t1 - t0,
        'to relay': produced - t1,
        'produce → handler': handled - produced,
        '(produce acked)': acknowledged - produced,
        'whole hop': handled - t0,
      };
    };

    for (let i = 0; i < warmUp; i++) await appendAndWait();
    const samples = Object.fromEntries(STAGES.map((stage) => [stage, [] as number[]])) as Record<
      Stage,
      number[]
    >;
    for (let i = 0; i < total; i++) {
      const sample = await appendAndWait();
      for (const stage of STAGES) samples[stage].push(sample[stage]);
    }
    console.log(`${total} events, one at a time, after ${warmUp} to warm up`);
    console.log('| stage | p50 ms | p95 ms | p99 ms |');
    console.log('|---|---:|---:|---:|');
    for (const stage of STAGES) {
      const sorted = samples[stage].sort((a, b) => a - b);
      const f = (p: number) => percentile(sorted, p).toFixed(2);
      console.log(`| ${stage} | ${f(50)} | ${f(95)} | ${f(99)} |`);
    }
  } finally {
    await arrivals?.stop();
    await relay.stop();
    await publisher.disconnect();
    await kafka.drop();
    await db.drop();
  }
}

void main();
