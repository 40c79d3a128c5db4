import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError, ERROR_CATALOG, type ErrorCode } from '@contracts';
import type { Logger } from '../logger';

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

/** The `type` a body verifier tags a body with when its bytes are not valid UTF-8. */
export const INVALID_ENCODING_ERROR_TYPE = 'entity.encoding.invalid';

/** What a 503 tells clients to wait before retrying (with the same idempotency key). */
export const RETRY_AFTER_SECONDS = 5;

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

/**
 * Any thrown value -> its problem. Coded AppErrors keep their code; body-parser and other http-errors
 * keep their 4xx meaning; a lost database connection is a retryable 503; anything else is a 500.
 */
export function problemFromError(error: unknown): Problem {
  if (error instanceof AppError) return withErrorId(problemFor(error.code, error.message, error.details));
  const bodyParserType = (error as { type?: unknown } | null)?.type;
  if (bodyParserType === 'entity.parse.failed') return problemFor('invalid-json', (error as Error).message);
  if (bodyParserType === INVALID_ENCODING_ERROR_TYPE) {
    return problemFor('invalid-encoding', (error as Error).message);
  }
  if (bodyParserType === 'entity.too.large') return problemFor('payload-too-large', (error as Error).message);
  if (bodyParserType === 'encoding.unsupported' || bodyParserType === 'charset.unsupported') {
    return problemFor('unsupported-media-type', (error as Error).message);
  }
  const clientError = clientErrorCode(error);
  if (clientError) return problemFor(clientError, (error as Error).message);
  if (isDependencyOutage(error)) {
    return withErrorId(problemFor('dependency-unavailable', 'the database is unreachable; retry later'));
  }
  return withErrorId(
    problemFor('internal', 'An unexpected error occurred; quote errorId when reporting it.'),
  );
}

/** A 5xx is ours to investigate: it gets an errorId for the body and the log. */
function withErrorId(problem: Problem): Problem {
  return problem.status >= 500 ? { ...problem, errorId: randomUUID() } : problem;
}

const CODE_OF_CLIENT_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'validation-failed',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/**
 * http-errors raised by express and its parsers (a corrupt gzip stream, a bad percent-encoding) carry
 * a 4xx `status` and `expose: true`: the client's fault, safe to describe, never a 500.
 */
function clientErrorCode(error: unknown): ErrorCode | null {
  if (!(error instanceof Error)) return null;
  const { status, expose } = error as Error & { status?: unknown; expose?: unknown };
  if (expose !== true || typeof status !== 'number') return null;
  return CODE_OF_CLIENT_STATUS[status] ?? (status >= 400 && status < 500 ? 'validation-failed' : null);
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATE 57P01-03: admin shutdown, crash shutdown, cannot connect now; 53300: too many connections. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** pg and pg-pool report lost or impossible connections only in their messages. */
const CONNECTION_LOST_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i;

/**
 * True when the error (or what it wraps: typeorm's `driverError`, a `cause`) says the database could
 * not be reached or dropped the connection, as opposed to refusing the query itself.
 */
export function isDependencyOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const { code } = current as Error & { code?: unknown };
    if (typeof code === 'string') {
      if (CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code)) return true; // class 08: connection exception
    }
    if (CONNECTION_LOST_MESSAGE.test(current.message)) return true;
    const wrapped = current as Error & { driverError?: unknown; cause?: unknown };
    current = wrapped.driverError ?? wrapped.cause;
  }
  return false;
}

export function sendProblem(res: Response, problem: Problem, instance?: string): void {
  if (problem.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify(instance ? { ...problem, instance } : problem));
}

/**
 * The one way an HTTP error is answered, wherever it was raised (Nest's filter or an express
 * middleware before it): problem+json, and every 5xx logged with the errorId its body carries.
 */
export function answerProblem(
  logger: Logger,
  req: Request,
  res: Response,
  problem: Problem,
  error: unknown,
): void {
  if (problem.status >= 500) {
    logger.error({ err: error, errorId: problem.errorId, url: req.originalUrl }, 'request failed');
  }
  sendProblem(res, problem, req.originalUrl);
}
