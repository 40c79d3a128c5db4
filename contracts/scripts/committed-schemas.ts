/**
 * The committed JSON Schema files compiled with ajv, as a reader in another language would load them.
 * Dev tooling (ajv is a devDependency): the validation CLI and the tests share this one loader.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export const SCHEMA_DIR = join(__dirname, '..', 'schemas');
const SCHEMA_BASE = 'https://schemas.convo-engine.dev/events/';

export interface CommittedSchemas {
  /** Any known event of any topic (conversation-event.schema.json or tenant-event.schema.json). */
  anyEvent: ValidateFunction;
  /** The schema of one event type, or undefined for a type no file describes. */
  ofType(type: string): ValidateFunction | undefined;
  /** Null when valid; otherwise why, in the terms of the event's own schema where it has one. */
  explain(event: unknown): string | null;
}

export function loadCommittedSchemas(): CommittedSchemas {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const name of readdirSync(SCHEMA_DIR).filter((file) => file.endsWith('.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')) as object);
  }
  const anyEvent = ajv.compile({
    anyOf: ['conversation-event', 'tenant-event', 'knowledge-event'].map((name) => ({
      $ref: `${SCHEMA_BASE}${name}.schema.json`,
    })),
  });
  const ofType = (type: string) => ajv.getSchema(`${SCHEMA_BASE}${type}.schema.json`);
  return {
    anyEvent,
    ofType,
    explain(event) {
      const type = (event as { type?: unknown } | null)?.type;
      const check = (typeof type === 'string' ? ofType(type) : undefined) ?? anyEvent;
      return check(event) ? null : ajv.errorsText(check.errors);
    },
  };
}
