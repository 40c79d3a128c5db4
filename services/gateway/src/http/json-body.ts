import express, { type NextFunction, type Request, type Response } from 'express';
import { problemFor, problemFromError, sendProblem } from '@libs/platform';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * JSON request bodies: a body must be declared application/json (415 otherwise), parse (400) and
 * stay under the limit (413). Runs before any route, so a bad request reaches no handler.
 */
export function jsonBody(maxBytes: number) {
  const parse = express.json({ limit: maxBytes, strict: true, type: () => true });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      if (!METHODS_WITH_BODY.has(req.method) || !hasBody(req)) return next();
      if (!req.is('application/json') && !req.is('application/*+json')) {
        return sendProblem(
          res,
          problemFor('unsupported-media-type', `got ${req.headers['content-type'] ?? 'no Content-Type'}`),
          req.originalUrl,
        );
      }
      return parse(req, res, next);
    },
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(error);
      return sendProblem(res, problemFromError(error), req.originalUrl);
    },
  ];
}
