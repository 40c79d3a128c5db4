import { loadCommittedSchemas } from '@contracts/committed-schemas';

/** Validates with the committed JSON Schema files, as a reader in another language would. */
export function committedSchemaValidator(): (event: unknown) => string | null {
  const schemas = loadCommittedSchemas();
  return (event) => schemas.explain(event);
}
