/**
 * A demo conversation through the running stack, as a contact-centre frontend would hold it:
 * open a conversation over REST, subscribe on the WebSocket, send a Chinese and an English message,
 * print each answer (the model's reply as it streams, or the bot's question when a detail is missing),
 * then show where to look next.
 *   node dist/deploy/local/demo/demo.js --base-url http://127.0.0.1:3000 --api-key cek_... [--brokers 127.0.0.1:9092]
 */
import { parseArgs } from 'node:util';
import type { EventOfType } from '@contracts';
import { GatewayClient, ReplyFailedError, type GatewaySocket } from '@libs/client';
import { ANSWER_CACHE_BACKEND } from '@libs/conversation';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string', default: 'http://127.0.0.1:3000' },
    'api-key': { type: 'string' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    // Above the local stack's reply deadline (LLM_TIMEOUT_MS=180000, components/llm-demo.sh), so a slow
    // CPU reply ends as the engine decides, not cut off by the demo.
    'timeout-ms': { type: 'string', default: '240000' },
  },
});

const baseUrl = args['base-url'] ?? 'http://127.0.0.1:3000';
const apiKey = args['api-key'] ?? process.env.CONVO_API_KEY ?? '';
const timeoutMs = Number(args['timeout-ms']);
// Questions the default intents route to the model (order status, with the order number in the shape
// the order_id slot accepts, E + 14 digits); a missing detail would get the bot's question for it instead.
const TURNS = [
  { label: '中文', text: '你好！我的包裹什么时候能到？订单号是 E20261128004512。' },
  { label: 'English', text: 'Hi! When will my order E20261128004512 arrive? I need it before Friday.' },
];

type Answer =
  | { kind: 'reply'; event: EventOfType<'conversation.reply-completed.v2'> }
  | { kind: 'question'; event: EventOfType<'conversation.bot-message-sent.v1'> };

/** The bot's question answering `messageId` (a template asking for a missing detail), once it arrived. */
function questionFor(socket: GatewaySocket, messageId: string): Answer | undefined {
  const event = socket
    .eventsOfType('conversation.bot-message-sent.v1')
    .find((sent) => sent.data.inReplyTo.includes(messageId));
  return event && { kind: 'question', event };
}

/**
 * Prints the answer to `messageId`: the model's reply as its chunks stream in (a reply from the answer
 * cache has no chunks: its whole text at the end), or the bot's question. A failed reply rejects with
 * ReplyFailedError.
 */
async function streamAnswer(socket: GatewaySocket, messageId: string): Promise<Answer> {
  let streamed = false;
  const stop = socket.onFrame(({ frame }) => {
    const turnId = socket.turnFor(messageId)?.data.turnId;
    if (frame.type !== 'event' || turnId === undefined) return;
    const { event } = frame;
    if (event.type === 'conversation.reply-chunk-generated.v1' && event.data.turnId === turnId) {
      process.stdout.write(event.data.text);
      streamed = true;
    }
  });
  try {
    const end = await socket.until(() => socket.turnEndFor(messageId) ?? questionFor(socket, messageId), {
      timeoutMs,
    });
    if ('kind' in end) {
      process.stdout.write(end.event.data.text);
      return end;
    }
    if (end.type === 'conversation.reply-failed.v1') throw new ReplyFailedError(end);
    if (!streamed) process.stdout.write(end.data.text);
    return { kind: 'reply', event: end };
  } finally {
    stop();
  }
}

async function main(): Promise<void> {
  if (!apiKey) throw new Error('pass --api-key (deploy/local/up prints the demo key)');
  const client = new GatewayClient(baseUrl, apiKey);
  const conversation = await client.startConversation({
    channel: 'web',
    locale: 'zh-CN',
    labels: { queue: 'demo' },
  });
  const id = conversation.conversationId;
  console.log(`\nconversation ${id} opened`);
  const socket = await client.connect();
  await socket.subscribe(id);

  for (const turn of TURNS) {
    console.log(`\n[${turn.label}] customer: ${turn.text}`);
    const started = performance.now();
    const accepted = await client.sendMessage(id, turn.text);
    process.stdout.write('assistant: ');
    const answer = await streamAnswer(socket, accepted.messageId);
    const elapsed = Math.round(performance.now() - started);
    console.log(
      answer.kind === 'reply'
        ? answer.event.data.model === ANSWER_CACHE_BACKEND
          ? `\n-> reply from the answer cache (this tenant was asked the same first question before) in ${elapsed} ms end to end`
          : `\n-> reply from ${answer.event.data.model} in ${elapsed} ms end to end (model ${Math.round(answer.event.data.timings.totalMs)} ms)`
        : `\n-> the bot asks for ${answer.event.data.slot ?? 'more'} (template ${answer.event.data.template}) after ${elapsed} ms`,
    );
  }
  socket.close();

  const state = await client.getConversation(id);
  console.log(
    `\nstate: ${state.status}${state.status === 'collecting' ? ' (the bot waits for the customer)' : ''}, ` +
      `${state.turnsCompleted} turns, ${state.version} events in the stream`,
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
