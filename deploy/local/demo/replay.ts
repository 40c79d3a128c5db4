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
import { GatewayClient } from '@libs/client';
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

async function main(): Promise<void> {
  const conversationId = positionals[0];
  if (!conversationId) throw new Error('usage: npm run replay -- <conversationId> [--api-key cek_...]');
  const client = new GatewayClient(args['base-url'] ?? 'http://127.0.0.1:3000', args['api-key'] ?? demoKey());
  // Both answers are validated against the contracts' schemas by the client.
  const live = await client.getConversation(conversationId);
  const events = await client.allEvents(conversationId, { pageSize: 500 });
  const replayed = toView(fold(events));
  if (live.version !== replayed.version) {
    console.log(
      `the conversation moved on while reading (live v${live.version}, replayed v${replayed.version}); run again`,
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
