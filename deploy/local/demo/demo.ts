/**
 * A demo conversation through the running stack, as a contact-centre frontend would hold it:
 * open a conversation over REST, subscribe on the WebSocket, send a Chinese and an English message,
 * print each reply as it streams, then show where to look next.
 *   node dist/deploy/local/demo/demo.js --base-url http://127.0.0.1:3000 --api-key cek_... [--brokers 127.0.0.1:9092]
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string', default: 'http://127.0.0.1:3000' },
    'api-key': { type: 'string' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    'timeout-ms': { type: 'string', default: '120000' },
  },
});

const baseUrl = args['base-url'] ?? 'http://127.0.0.1:3000';
const apiKey = args['api-key'] ?? process.env.CONVO_API_KEY ?? '';
const timeoutMs = Number(args['timeout-ms']);
const TURNS = [
  { label: '中文', text: '你好！我的包裹什么时候能到？订单号是 CN-20481。' },
  { label: 'English', text: 'Hi! Can I change the delivery address for order CN-20481?' },
];

interface EventFrame {
  type: 'event';
  event: { type: string; sequence: number; data: Record<string, unknown> };
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

function openSocket(): Promise<WebSocket> {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the completed reply of the turn answering `messageId`, printing chunks as they stream. */
function awaitReply(
  socket: WebSocket,
  messageId: string,
): Promise<{ text: string; model: string; totalMs: number }> {
  return new Promise((resolve, reject) => {
    let turnId: string | null = null;
    const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (raw: WebSocket.RawData) => {
      const frame = JSON.parse((raw as Buffer).toString('utf8')) as EventFrame | { type: string };
      if (frame.type !== 'event') return;
      const { event } = frame as EventFrame;
      const data = event.data;
      if (
        event.type === 'conversation.reply-requested.v1' &&
        (data.inReplyTo as string[]).includes(messageId)
      ) {
        turnId = data.turnId as string;
      } else if (event.type === 'conversation.reply-chunk-generated.v1' && data.turnId === turnId) {
        process.stdout.write(String(data.text));
      } else if (
        (event.type === 'conversation.reply-completed.v1' || event.type === 'conversation.reply-failed.v1') &&
        data.turnId === turnId
      ) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        if (event.type === 'conversation.reply-failed.v1')
          reject(new Error(`reply failed: ${String(data.message)}`));
        else {
          const timings = data.timings as { totalMs: number };
          resolve({ text: String(data.text), model: String(data.model), totalMs: timings.totalMs });
        }
      }
    };
    socket.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  if (!apiKey) throw new Error('pass --api-key (deploy/local/up prints the demo key)');
  const conversation = await api<{ conversationId: string }>('POST', '/v1/conversations', {
    channel: 'web',
    locale: 'zh-CN',
    labels: { queue: 'demo' },
  });
  const id = conversation.conversationId;
  console.log(`\nconversation ${id} opened`);
  const socket = await openSocket();
  socket.send(JSON.stringify({ type: 'subscribe', conversationId: id }));
  await new Promise<void>((resolve) => socket.once('message', () => resolve()));

  for (const turn of TURNS) {
    console.log(`\n[${turn.label}] customer: ${turn.text}`);
    const started = performance.now();
    const accepted = await api<{ messageId: string }>('POST', `/v1/conversations/${id}/messages`, {
      text: turn.text,
    });
    process.stdout.write('assistant (streaming): ');
    const reply = await awaitReply(socket, accepted.messageId);
    const elapsed = performance.now() - started;
    console.log(
      `\n-> reply from ${reply.model} in ${Math.round(elapsed)} ms end to end (model ${Math.round(reply.totalMs)} ms)`,
    );
  }
  socket.close();

  const state = await api<{ status: string; version: number; turnsCompleted: number }>(
    'GET',
    `/v1/conversations/${id}`,
  );
  console.log(
    `\nstate: ${state.status}, ${state.turnsCompleted} turns, ${state.version} events in the stream`,
  );
  console.log(`
Where to look next:
  state         curl -H "Authorization: Bearer ${apiKey}" ${baseUrl}/v1/conversations/${id}
  event stream  curl -H "Authorization: Bearer ${apiKey}" "${baseUrl}/v1/conversations/${id}/events?limit=100"
  on Kafka      kcat -C -b ${args.brokers} -t conversation.events -o beginning -e -q | grep ${id}
  validate it   kcat -C -b ${args.brokers} -t conversation.events -o beginning -e -q | npm run --silent contracts:validate
  replay it     npm run replay -- ${id}
  API docs      ${baseUrl}/docs
  schemas       contracts/schemas/*.schema.json     topics: contracts/README.md
`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
