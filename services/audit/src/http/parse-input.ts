import { z } from 'zod';
import { AppError } from '@contracts';

/** Validates a request body or query against its schema; a failure is a 400 listing every problem. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new AppError('validation-failed', z.prettifyError(result.error), {
    errors: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}
