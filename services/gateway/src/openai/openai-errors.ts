import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RETRY_AFTER_SECONDS, PINO_LOGGER, problemOf, type Logger, type Problem } from '@libs/platform';

/** The paths of the OpenAI-compatible facade, whose errors take OpenAI's shape instead of problem+json. */
export const OPENAI_PATHS = ['/v1/chat/completions', '/v1/models'];

export function isOpenAiPath(path: string): boolean {
  const normalised = path.replace(/\/+$/, '').toLowerCase();
  return OPENAI_PATHS.some((prefix) => normalised === prefix || normalised.startsWith(`${prefix}/`));
}

/** OpenAI's error body: what its client libraries parse into their typed errors. */
export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * The problem an engine route would answer, in OpenAI's shape, with the same status. `type` follows
 * OpenAI's usage (invalid_request_error, authentication, rate limits as `requests`/`tokens`,
 * server_error); `code` is the engine's code in snake case, or OpenAI's own where clients look for it.
 */
export function openAiErrorOf(problem: Problem): OpenAiError {
  const detail = typeof problem.detail === 'string' ? problem.detail : problem.title;
  const firstError = Array.isArray(problem.errors)
    ? (problem.errors[0] as { path?: unknown } | undefined)
    : undefined;
  const param = typeof firstError?.path === 'string' && firstError.path !== '' ? firstError.path : null;
  return { error: { message: detail, type: typeOf(problem), param, code: codeOf(problem) } };
}

function typeOf(problem: Problem): string {
  if (problem.status === 401) return 'invalid_request_error';
  if (problem.status === 403) return 'permission_error';
  if (problem.status === 429) return problem.limit === 'tokens' ? 'tokens' : 'requests';
  if (problem.status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function codeOf(problem: Problem): string {
  if (problem.code === 'unauthorized') return 'invalid_api_key';
  if (problem.code === 'rate-limited') return 'rate_limit_exceeded';
  return problem.code.replace(/-/g, '_');
}

export function sendOpenAiError(res: Response, problem: Problem): void {
  if (problem.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res
    .status(problem.status)
    .type('application/json')
    .send(JSON.stringify(openAiErrorOf(problem)));
}

/**
 * The facade's exception filter: the same problems as every route (codes, statuses, a 5xx logged with
 * its errorId), answered in OpenAI's shape. Once an SSE stream has started, the controller reports
 * errors in the stream itself.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  constructor(@Inject(PINO_LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const problem = problemOf(error);
    if (problem.status >= 500) {
      this.logger.error({ err: error, errorId: problem.errorId, url: req.originalUrl }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendOpenAiError(res, problem);
  }
}
