import { z } from 'zod';
import { EVENT_DEFINITIONS } from './events';

const SCHEMA_BASE = 'https://schemas.convo-engine.dev/events/';

/** JSON Schema (draft 2020-12) per event type, plus one that accepts any known event. */
export function buildJsonSchemas(): Record<string, Record<string, unknown>> {
  const files: Record<string, Record<string, unknown>> = {};
  for (const definition of EVENT_DEFINITIONS) {
    files[`${definition.type}.schema.json`] = {
      $id: `${SCHEMA_BASE}${definition.type}.schema.json`,
      ...z.toJSONSchema(definition.schema, { target: 'draft-2020-12', io: 'output' }),
    };
  }
  files['conversation-event.schema.json'] = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE}conversation-event.schema.json`,
    title: 'Any conversation event',
    description: 'Every message on the conversation.events topic matches exactly one of these.',
    oneOf: EVENT_DEFINITIONS.map((definition) => ({ $ref: `${definition.type}.schema.json` })),
  };
  return files;
}
