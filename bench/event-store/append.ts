/**
 * Event store append cost on the real PostgreSQL of the local stack: latency of one append (one event,
 * expected version checked) sequentially and with C concurrent writers on distinct conversations, and the
 * appends/s each reaches. Uses its own throw-away database.
 *   npm run build && node dist/bench/event-store/append.js [--appends 2000] [--concurrency 1,8,32]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PostgresEventStore } from '@libs/event-store';
import { percentile } from '../tools/percentile';
import { createTenantWithKey, createTestDatabase, messageReceived, started, target } from '@test/support';

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '1,8,32' },
  },
});

async function main(): Promise<void> {
  const db = await createTestDatabase('bench_append');
  try {
    await createTenantWithKey(db.dataSource, 'bench');
    const store = new PostgresEventStore(db.dataSource);
    const total = Number(values.appends);
    console.log('| writers | appends | appends/s | p50 ms | p95 ms | p99 ms |');
    console.log('|---:|---:|---:|---:|---:|---:|');
    for (const writers of values.concurrency.split(',').map(Number)) {
      const streams = await Promise.all(
        Array.from({ length: writers }, async () => {
          const id = randomUUID();
          await store.append(target('bench', id, 0), [started()]);
          return { id, version: 1 };
        }),
      );
      const latencies: number[] = [];
      const perWriter = Math.ceil(total / writers);
      const began = performance.now();
      await Promise.all(
        streams.map(async (stream) => {
          for (let i = 0; i < perWriter; i++) {
            const t = performance.now();
            await store.append(target('bench', stream.id, stream.version), [messageReceived(`m${i}`)]);
            latencies.push(performance.now() - t);
            stream.version++;
          }
        }),
      );
      const seconds = (performance.now() - began) / 1000;
      latencies.sort((a, b) => a - b);
      const f = (n: number) => n.toFixed(2);
      console.log(
        `| ${writers} | ${latencies.length} | ${Math.round(latencies.length / seconds)} | ${f(percentile(latencies, 50))} | ${f(percentile(latencies, 95))} | ${f(percentile(latencies, 99))} |`,
      );
    }
  } finally {
    await db.drop();
  }
}

void main();
