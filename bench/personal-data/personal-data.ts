/**
 * The cost of sealing personal data (erasure by crypto-shredding, issue 10) per event, on the CPU alone:
 * what an append pays to seal a turn's events and a reader pays to open them, with the data key cached
 * (the usual case), and what a cache miss costs besides its one indexed SELECT (unwrapping the key).
 *
 *   npm run build && node dist/bench/personal-data/personal-data.js [--events 20000]
 *   (or, without a build: npx ts-node -T -r tsconfig-paths/register bench/personal-data/personal-data.ts)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { StoredEvent } from '@contracts';
import { DataKeyRepository, PersonalDataCipher, type DataKey, type SqlRunner } from '@libs/event-store';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' } } });
const EVENTS = Number(values.events);
const REF = { tenantId: 'bench', conversationId: randomUUID() };

/** The key table of one conversation, in memory: only cache misses reach it. */
let wrapped: Buffer;
const table: SqlRunner = {
  query: () =>
    Promise.resolve([{ tenant_id: REF.tenantId, conversation_id: REF.conversationId, wrapped_key: wrapped }]),
};
const keys = new DataKeyRepository(table, randomBytes(32));

function envelope(type: StoredEvent['type'], data: unknown): StoredEvent {
  return {
    eventId: randomUUID(),
    type,
    tenantId: REF.tenantId,
    conversationId: REF.conversationId,
    sequence: 1,
    occurredAt: new Date().toISOString(),
    causationId: null,
    correlationId: randomUUID(),
    data,
  } as StoredEvent;
}

const message = '你好，我的包裹到哪了？订单号 A12345678，我的电话是 13800138000，麻烦尽快帮我查一下。';
const reply =
  '您好！我已经为您查询了订单 A12345678 的物流信息：包裹目前在上海转运中心，预计明天送达。'.repeat(3);
const system = 'You are a helpful, concise customer-service assistant for an online shop. '.repeat(8);
/** Events of a customer turn, by weight: each kind with its own payload size. */
const TURN: StoredEvent[] = [
  envelope('conversation.message-received.v1', { messageId: randomUUID(), text: message }),
  envelope('conversation.intent-resolved.v1', {
    messageId: randomUUID(),
    intent: 'order_status',
    label: 'order_status',
    confidence: 0.93,
    path: 'fast',
    failed: false,
  }),
  envelope('conversation.reply-requested.v1', {
    turnId: randomUUID(),
    inReplyTo: [randomUUID()],
    prompt: [
      { role: 'system', content: system },
      { role: 'user', content: message },
      { role: 'assistant', content: reply },
      { role: 'user', content: message },
    ],
    maxTokens: 256,
  }),
  envelope('conversation.reply-chunk-generated.v1', {
    turnId: randomUUID(),
    attempt: 1,
    chunkIndex: 0,
    text: reply.slice(0, 24),
  }),
  envelope('conversation.reply-completed.v2', {
    turnId: randomUUID(),
    attempt: 1,
    text: reply,
    model: 'qwen',
    finishReason: 'stop',
    usage: { promptTokens: 300, completionTokens: 90 },
    timings: { firstTokenMs: 100, totalMs: 900 },
    parts: [{ backend: 'primary', model: 'qwen', start: 0, end: reply.length }],
  }),
];

function perEvent(label: string, count: number, started: bigint): void {
  const micros = Number(process.hrtime.bigint() - started) / 1_000 / count;
  console.log(
    `${label.padEnd(44)} ${micros.toFixed(2).padStart(8)} µs/event  ${Math.round(1e6 / micros)
      .toLocaleString('en')
      .padStart(10)} events/s`,
  );
}

async function main(): Promise<void> {
  const created = keys.newKey(REF);
  wrapped = created.wrapped;
  const key: DataKey = { state: 'active', key: created.key };
  const cipher = new PersonalDataCipher(keys);
  console.log(
    `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`${EVENTS} events per row (a turn's mix: message, intent, prompt, chunk, reply)`);

  for (let round = 0; round < 2; round++) {
    // The first round warms the JIT; the second is reported.
    const events = Array.from({ length: EVENTS }, (_, i) => TURN[i % TURN.length]!);
    let started = process.hrtime.bigint();
    const sealed = events.map((event) => ({ ...event, data: cipher.seal(REF, key, event) }));
    if (round === 1) perEvent('seal (append), key cached', EVENTS, started);
    await cipher.open(sealed.slice(0, 1)); // the key in the cache
    started = process.hrtime.bigint();
    for (let i = 0; i < sealed.length; i += 500) await cipher.open(sealed.slice(i, i + 500));
    if (round === 1) perEvent('open (read, consume), key cached, pages of 500', EVENTS, started);
    started = process.hrtime.bigint();
    for (const event of sealed) await cipher.open([event]);
    if (round === 1) perEvent('open one at a time (a Kafka consumer)', EVENTS, started);
    const plain = TURN.filter((event) => event.type === 'conversation.intent-resolved.v1');
    started = process.hrtime.bigint();
    for (let i = 0; i < EVENTS; i++) await cipher.open(plain);
    if (round === 1) perEvent('open an event without personal fields', EVENTS, started);
    started = process.hrtime.bigint();
    for (let i = 0; i < EVENTS / 10; i++) await new PersonalDataCipher(keys).open([sealed[0]!]);
    if (round === 1) perEvent('open with a cold cache (unwrap, no SQL)', EVENTS / 10, started);
  }
  const sizes = TURN.map((event) => {
    const plain = JSON.stringify(event.data).length;
    const sealedSize = JSON.stringify(cipher.seal(REF, key, event)).length;
    return `${event.type.replace('conversation.', '')} ${plain}→${sealedSize} B`;
  });
  console.log(`payload sizes (JSON, plain→sealed): ${sizes.join(', ')}`);
}

void main();
