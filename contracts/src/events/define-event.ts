import { z } from 'zod';
import { EnvelopeFields } from '../envelope';

/**
 * Declares one versioned event type. The runtime schema is the single source of truth:
 * the TypeScript type is inferred from it and the committed JSON Schema is generated from it.
 */
export function defineEvent<const Name extends string, const Version extends number, Data extends z.ZodType>(
  name: Name,
  version: Version,
  data: Data,
  description: string,
) {
  const type = `${name}.v${version}` as const;
  const schema = z
    .object({ ...EnvelopeFields, type: z.literal(type), data })
    .strict()
    .meta({ title: type, description });
  return { type, name, version, data, schema, description };
}
