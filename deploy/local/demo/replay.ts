/**
 * An analyst's check: fetch a conversation's full event stream through the API, replay it through the
 * conversation machine, and compare with the state the gateway serves. Exit 1 on any difference.
 *   npm run replay -- <conversationId> [--base-url http://127.0.0.1:3000] [--api-key cek_...]
 * The key defaults to the local demo tenant's (~/.cache/convo-engine/demo-tenant.json).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { isConversationEvent, validateEvent, type ConversationEvent } from '@contracts';
import { fold, toView } from '@libs/conversation';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'base-url': { type: 'string', default: 'http://127.0.0.1:3000' },
    'api-key': { type: 'string' },
  },
});

function demoKey(): string {
  const file = join(
    process.env.CONVO_STACK_HOME ?? join(homedir(), '.cache', 'convo-engine'),
    'demo-tenant.json',
  );
  return (JSON.parse(readFileSync(file, 'utf8')) as { apiKey: string }).apiKey;
}

async function get<T>(path: string, apiKey: string): Promise<T> {
  const response = await fetch(`${args['base-url']}${path}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (!response.ok) throw new Error(`GET ${path} -> ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

async function main(): Promise<void> {
  const conversationId = positionals[0];
  if (!conversationId) throw new Error('usage: npm run replay -- <conversationId> [--api-key cek_...]');
  const apiKey = args['api-key'] ?? demoKey();
  const live = await get<unknown>(`/v1/conversations/${conversationId}`, apiKey);
  const events: ConversationEvent[] = [];
  for (let after: number | null = 0; after !== null;) {
    const page: { events: unknown[]; nextAfter: number | null } = await get(
      `/v1/conversations/${conversationId}/events?after=${after}&limit=500`,
      apiKey,
    );
    for (const raw of page.events) {
      const parsed = validateEvent(raw);
      if (!parsed.ok) throw new Error(`invalid event in the stream: ${parsed.detail}`);
      if (!isConversationEvent(parsed.event))
        throw new Error(`${parsed.event.type} is not a conversation event`);
      events.push(parsed.event);
    }
    after = page.nextAfter;
  }
  const replayed = toView(fold(events));
  const version = (live as { version?: number }).version;
  if (version !== replayed.version) {
    console.log(
      `the conversation moved on while reading (live v${version}, replayed v${replayed.version}); run again`,
    );
    process.exit(1);
  }
  if (!isDeepStrictEqual(replayed, live)) {
    console.log(
      'MISMATCH\nreplayed:',
      JSON.stringify(replayed, null, 2),
      '\nlive:',
      JSON.stringify(live, null, 2),
    );
    process.exit(1);
  }
  console.log(
    `replayed ${events.length} events: identical to GET /v1/conversations/${conversationId} (status ${replayed.status})`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
