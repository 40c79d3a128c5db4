import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { throwError, type Observable } from 'rxjs';
import { PINO_LOGGER, type Logger } from '../logger';
import { answerProblem, problemFor, problemFromError, type Problem } from './problem';

/**
 * The one exception filter of every service. HTTP errors become problem+json (a 500 gets an errorId
 * in the body and the log). Errors of Kafka handlers pass through untouched, so the transport can tell
 * a coded, non-retryable AppError (dead-letter it) from a transient failure (retry it); Nest's default
 * would flatten both into "Internal server error".
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(PINO_LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() !== 'http') return throwError(() => error);
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    answerProblem(this.logger, req, res, problemOf(error), error);
  }
}

/** Any error an HTTP route raised, Nest's own exceptions included, as its problem. */
export function problemOf(error: unknown): Problem {
  return error instanceof HttpException ? fromHttpException(error) : problemFromError(error);
}

function fromHttpException(error: HttpException): Problem {
  const status = error.getStatus();
  if (status === 404) return problemFor('not-found', error.message);
  if (status === 413) return problemFor('payload-too-large', error.message);
  if (status === 415) return problemFor('unsupported-media-type', error.message);
  if (status === 401) return problemFor('unauthorized', error.message);
  if (status < 500) return { ...problemFor('validation-failed', error.message), status };
  return problemFromError(error);
}
