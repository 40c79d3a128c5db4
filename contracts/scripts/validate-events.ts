/**
 * Validates events read off a topic by any consumer against the committed JSON Schema files, and checks
 * each conversation's order (sequence 1, 2, 3... with no gap; repeats of an event are at-least-once
 * redeliveries and are counted, not failed). Input: one event per line, optionally `key<TAB>json`.
 *   kcat -C -b 127.0.0.1:9092 -t conversation.events -o beginning -e -q | npm run --silent contracts:validate
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const schemaDir = join(__dirname, '..', 'schemas');
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
for (const file of readdirSync(schemaDir))
  ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as object);
const SCHEMA_BASE = 'https://schemas.convo-engine.dev/events/';
const validate = ajv.getSchema(`${SCHEMA_BASE}conversation-event.schema.json`);
if (!validate) throw new Error('conversation-event.schema.json is missing');

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
    // The schema of the event's own type gives the precise reason; the union one catches unknown types.
    const own =
      typeof event.type === 'string' ? ajv.getSchema(`${SCHEMA_BASE}${event.type}.schema.json`) : undefined;
    const check = own ?? validate;
    if (!check?.(event)) {
      invalid++;
      console.log(
        `invalid ${event.eventId ?? '?'} (${typeof event.type === 'string' ? event.type : 'no type'}): ${ajv.errorsText(check?.errors)}`,
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
