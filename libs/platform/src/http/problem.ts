import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { AppError, ERROR_CATALOG, type ErrorCode } from '@contracts';

/** RFC 9457 problem details. `type` points at the code's documentation in the API reference. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  errorId?: string;
  [extension: string]: unknown;
}

export function problemFor(
  code: ErrorCode,
  detail?: string,
  extensions: Record<string, unknown> = {},
): Problem {
  const entry = ERROR_CATALOG[code];
  // Extensions first: details can add fields but never overwrite the standard members.
  return {
    ...extensions,
    type: `/problems/${code}`,
    title: entry.title,
    status: entry.status,
    code,
    ...(detail === undefined ? {} : { detail }),
  };
}

/** Body-parser errors carry a `type`; map them to our codes. */
export function problemFromError(error: unknown): Problem {
  if (error instanceof AppError) {
    const problem = problemFor(error.code, error.message, error.details);
    // A 5xx is ours to investigate: like any other, it gets an errorId for the body and the log.
    return problem.status >= 500 ? { ...problem, errorId: randomUUID() } : problem;
  }
  const bodyParserType = (error as { type?: unknown } | null)?.type;
  if (bodyParserType === 'entity.parse.failed') return problemFor('invalid-json', (error as Error).message);
  if (bodyParserType === 'entity.too.large') return problemFor('payload-too-large', (error as Error).message);
  if (bodyParserType === 'encoding.unsupported' || bodyParserType === 'charset.unsupported') {
    return problemFor('unsupported-media-type', (error as Error).message);
  }
  return {
    ...problemFor('internal', 'An unexpected error occurred; quote errorId when reporting it.'),
    errorId: randomUUID(),
  };
}

export function sendProblem(res: Response, problem: Problem, instance?: string): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify(instance ? { ...problem, instance } : problem));
}
