/**
 * Audit service benchmark (issue 10), on the real PostgreSQL: the audit log's appends (read-all into
 * the Merkle store, in the checkpoint's transaction), verification of a tenant's whole log, the
 * conversation-summary projection rebuilt from zero, and the streamed analytics export.
 *
 *   npm run build && set -a && . ~/.cache/convo-engine/stack.env && set +a
 *   node dist/bench/audit/audit.js [--conversations 2000] [--turns 3] [--batch 500]
 *
 * Goals: verify >= 50k entries/s, rebuild >= 100k events/s. Writes into a database of its own, dropped
 * at the end. CPU time is reported next to wall time: the machine is shared.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateAuditSigningKey, loadAuditSigningKey } from '@libs/audit-log';
import {
  CheckpointedSubscription,
  PostgresEventStore,
  migrateOwnTables,
  type Projection,
} from '@libs/event-store';
import { createLogger } from '@libs/platform';
import {
  AUDIT_TABLES,
  AuditLogProjection,
  AuditLogService,
  ConversationAnalyticsRepository,
  ConversationSummaryProjection,
  exportLines,
} from '@services/audit';
import {
  closed,
  createTenantWithKey,
  createTestDatabase,
  started,
  target,
  understoodTurn,
} from '@test/support';

const { values } = parseArgs({
  options: {
    conversations: { type: 'string', default: '2000' },
    turns: { type: 'string', default: '3' },
    batch: { type: 'string', default: '500' },
  },
});
const CONVERSATIONS = Number(values.conversations);
const TURNS = Number(values.turns);
const BATCH = Number(values.batch);
const TENANT = 'bench';
const INTENTS = ['order_status', 'refund', 'delivery', 'invoice', 'other'];

interface Timing {
  wallMs: number;
  cpuMs: number;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, Timing]> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return [result, { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 }];
}

function rate(count: number, timing: Timing): string {
  return `${Math.round(count / (timing.wallMs / 1000)).toLocaleString('en-US')}/s`;
}

async function main(): Promise<void> {
  const logger = createLogger('bench-audit', 'warn');
  const db = await createTestDatabase('bench_audit');
  const rows: string[][] = [];
  try {
    await migrateOwnTables(db.url, AUDIT_TABLES);
    await createTenantWithKey(db.dataSource, TENANT);
    const store = new PostgresEventStore(db.dataSource);

    // Seed: conversations with understood turns, 16 at a time (not measured as a goal).
    const [events, seed] = await timed(async () => {
      let total = 0;
      for (let start = 0; start < CONVERSATIONS; start += 16) {
        const ids = Array.from({ length: Math.min(16, CONVERSATIONS - start) }, () => randomUUID());
        await Promise.all(
          ids.map(async (id, offset) => {
            const i = start + offset;
            const turns = Array.from({ length: TURNS }, (_, turn) =>
              understoodTurn({
                text: `question ${turn} 13800138000`,
                intent: turn === 2 && i % 7 === 0 ? 'failed' : INTENTS[(i + turn) % INTENTS.length]!,
                degraded: { keyword: i % 10 === 0, vector: false },
                outcome: i % 9 === 0 && turn === 1 ? 'failed' : 'completed',
              }),
            ).flat();
            const pending = [started(), ...turns, ...(i % 2 === 0 ? [closed()] : [])];
            await store.append(target(TENANT, id, 0), pending);
            total += pending.length;
          }),
        );
      }
      return total;
    });
    rows.push([
      'seed: store appends (16 conversations at a time)',
      `${events} events`,
      fmt(seed),
      rate(events, seed),
    ]);

    const subscription = (projection: Projection) =>
      new CheckpointedSubscription(db.dataSource, store, projection, logger, { batchSize: BATCH });

    const log = subscription(new AuditLogProjection());
    const [appended, append] = await timed(() => log.catchUp());
    rows.push([
      `audit log append (read-all batches of ${BATCH})`,
      `${appended} entries`,
      fmt(append),
      rate(appended, append),
    ]);

    const key = loadAuditSigningKey(generateAuditSigningKey().privateKeyPem);
    const service = new AuditLogService(db.dataSource, key, () => new Date());
    await service.signTreeHead(TENANT);
    const [verified, verify] = await timed(() => service.verify(TENANT));
    if (!verified.ok) throw new Error(`the log did not verify: ${JSON.stringify(verified.failure)}`);
    rows.push([
      'verify the whole log (leaves, root, head)',
      `${verified.entries} entries`,
      fmt(verify),
      rate(verified.entries, verify),
    ]);

    const summaries = subscription(new ConversationSummaryProjection());
    await summaries.catchUp();
    await summaries.reset();
    const [rebuilt, rebuild] = await timed(() => summaries.catchUp());
    rows.push([
      `summary projection rebuilt from zero (batches of ${BATCH})`,
      `${rebuilt} events`,
      fmt(rebuild),
      rate(rebuilt, rebuild),
    ]);

    const repository = new ConversationAnalyticsRepository(db.dataSource);
    let heapMax = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    const [exported, exporting] = await timed(async () => {
      let lines = 0;
      let bytes = 0;
      for await (const line of exportLines(repository.all(TENANT, {}), 'csv')) {
        lines += 1;
        bytes += Buffer.byteLength(line);
        if (lines % 500 === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      }
      return { rows: lines - 1, bytes };
    });
    rows.push([
      'CSV export, streamed (keyset pages of 1000)',
      `${exported.rows} rows, ${(exported.bytes / 1024).toFixed(0)} KiB`,
      fmt(exporting),
      rate(exported.rows, exporting),
    ]);
    rows.push(['export heap: before, highest during', `${mib(heapBefore)}, ${mib(heapMax)}`, '', '']);
  } finally {
    await db.drop();
  }
  console.log(
    `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}`,
  );
  console.log(`${CONVERSATIONS} conversations x ${TURNS} turns\n`);
  console.log('| step | size | wall (CPU of this process) | throughput |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

function fmt(timing: Timing): string {
  return `${(timing.wallMs / 1000).toFixed(2)} s (${(timing.cpuMs / 1000).toFixed(2)} s)`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
