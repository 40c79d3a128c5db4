import { z } from 'zod';
import { EVENT_DEFINITIONS, type StreamKind } from './events';

const SCHEMA_BASE = 'https://schemas.convo-engine.dev/events/';

/** One "any event of this topic" schema per topic; the conversation one keeps its published name. */
const UNION_FILES: { file: string; kinds: StreamKind[]; title: string; description: string }[] = [
  {
    file: 'conversation-event.schema.json',
    kinds: ['conversation'],
    title: 'Any conversation event',
    description: 'Every message on the conversation.events topic matches exactly one of these.',
  },
  {
    file: 'tenant-event.schema.json',
    kinds: ['tenant-settings', 'access', 'content-filter'],
    title: 'Any tenant event',
    description: 'Every message on the tenant.events topic matches exactly one of these.',
  },
  {
    file: 'knowledge-event.schema.json',
    kinds: ['knowledge-document'],
    title: 'Any knowledge document event',
    description: 'Every message on the knowledge.events topic matches exactly one of these.',
  },
];

/** JSON Schema (draft 2020-12) per event type, plus one per topic that accepts any of its events. */
export function buildJsonSchemas(): Record<string, Record<string, unknown>> {
  const files: Record<string, Record<string, unknown>> = {};
  for (const definition of EVENT_DEFINITIONS) {
    files[`${definition.type}.schema.json`] = {
      $id: `${SCHEMA_BASE}${definition.type}.schema.json`,
      ...z.toJSONSchema(definition.schema, { target: 'draft-2020-12', io: 'output' }),
    };
  }
  for (const union of UNION_FILES) {
    files[union.file] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `${SCHEMA_BASE}${union.file}`,
      title: union.title,
      description: union.description,
      oneOf: EVENT_DEFINITIONS.filter((definition) => union.kinds.includes(definition.kind)).map(
        (definition) => ({
          $ref: `${definition.type}.schema.json`,
        }),
      ),
    };
  }
  return files;
}
