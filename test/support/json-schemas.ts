import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const SCHEMA_DIR = join(__dirname, '..', '..', 'contracts', 'schemas');

/** Validates with the committed JSON Schema files, as a reader in another language would. */
export function committedSchemaValidator(): (event: unknown) => string | null {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const file of readdirSync(SCHEMA_DIR)) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object);
  }
  const validate = ajv.getSchema('https://schemas.convo-engine.dev/events/conversation-event.schema.json');
  if (!validate) throw new Error('conversation-event.schema.json not found');
  return (event) => (validate(event) ? null : ajv.errorsText(validate.errors));
}
