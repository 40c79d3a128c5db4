import express, { type NextFunction, type Request, type Response } from 'express';
import {
  INVALID_ENCODING_ERROR_TYPE,
  answerProblem,
  problemFor,
  problemFromError,
  sendProblem,
  type Logger,
} from '@libs/platform';

/** A route whose JSON body needs its own limit, or its raw bytes (webhook signatures are over them). */
export interface JsonRoute {
  method: 'POST' | 'PUT';
  path: RegExp;
  maxBytes: number;
}

/** The bytes a JSON body was parsed from, kept for routes that verify a signature over them. */
export interface WithRawBody {
  rawBody?: Buffer;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function keepRaw(req: Request, _res: Response, body: Buffer): void {
  try {
    strictUtf8.decode(body);
  } catch {
    throw Object.assign(new Error('the body contains bytes that are not valid UTF-8'), {
      type: INVALID_ENCODING_ERROR_TYPE,
    });
  }
  (req as Request & WithRawBody).rawBody = body;
}

/**
 * JSON bodies of the named routes, parsed with the route's own limit and with their raw bytes kept
 * (`req.rawBody`); the same rules as every JSON body otherwise (application/json, no Content-Encoding,
 * UTF-8). Runs before the general JSON parser, which finds the body read and passes it on.
 */
export function routeJsonBody(routes: readonly JsonRoute[], logger: Logger) {
  const parsers = routes.map((route) => ({
    route,
    parse: express.json({
      limit: route.maxBytes,
      strict: true,
      inflate: false,
      type: () => true,
      verify: keepRaw,
    }),
  }));
  const find = (req: Request) =>
    parsers.find(({ route }) => route.method === req.method && route.path.test(req.path));
  return [
    (req: Request, res: Response, next: NextFunction) => {
      const match = find(req);
      if (!match) return next();
      if (!req.is('application/json') && !req.is('application/*+json')) {
        return sendProblem(
          res,
          problemFor('unsupported-media-type', `got ${req.headers['content-type'] ?? 'no Content-Type'}`),
          req.originalUrl,
        );
      }
      return match.parse(req, res, next);
    },
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent || !find(req)) return next(error);
      return answerProblem(logger, req, res, problemFromError(error), error);
    },
  ];
}
