/**
 * Validates events read off a topic by any consumer against the committed JSON Schema files, and checks
 * each conversation's order (sequence 1, 2, 3... with no gap; repeats of an event are at-least-once
 * redeliveries and are counted, not failed). Input: one event per line, optionally `key<TAB>json`.
 *   kcat -C -b 127.0.0.1:9092 -t conversation.events -o beginning -e -q | npm run --silent contracts:validate
 */
import { createInterface } from 'node:readline';
import { loadCommittedSchemas } from './committed-schemas';

const schemas = loadCommittedSchemas();

interface Seen {
  lastSequence: number;
  eventIds: Set<string>;
}

async function main(): Promise<void> {
  const conversations = new Map<string, Seen>();
  let valid = 0;
  let invalid = 0;
  let redelivered = 0;
  let outOfOrder = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const json = line.includes('\t') && !line.startsWith('{') ? line.slice(line.indexOf('\t') + 1) : line;
    let event: { eventId?: string; type?: unknown; conversationId?: string; sequence?: number };
    try {
      event = JSON.parse(json) as typeof event;
    } catch {
      invalid++;
      console.log(`not JSON: ${json.slice(0, 120)}`);
      continue;
    }
    const problem = schemas.explain(event);
    if (problem !== null) {
      invalid++;
      console.log(
        `invalid ${event.eventId ?? '?'} (${typeof event.type === 'string' ? event.type : 'no type'}): ${problem}`,
      );
      continue;
    }
    valid++;
    const seen = conversations.get(event.conversationId!) ?? { lastSequence: 0, eventIds: new Set<string>() };
    conversations.set(event.conversationId!, seen);
    if (seen.eventIds.has(event.eventId!)) {
      redelivered++;
      continue;
    }
    seen.eventIds.add(event.eventId!);
    if (event.sequence !== seen.lastSequence + 1) {
      outOfOrder++;
      console.log(`out of order in ${event.conversationId}: ${event.sequence} after ${seen.lastSequence}`);
    }
    seen.lastSequence = Math.max(seen.lastSequence, event.sequence!);
  }
  console.log(
    `${valid} valid, ${invalid} invalid, ${conversations.size} conversations, ` +
      `${outOfOrder} out of order, ${redelivered} redelivered duplicates`,
  );
  process.exit(invalid > 0 || outOfOrder > 0 ? 1 : 0);
}

void main();
