import express, { type NextFunction, type Request, type Response } from 'express';
import {
  INVALID_ENCODING_ERROR_TYPE,
  answerProblem,
  problemFor,
  problemFromError,
  sendProblem,
  type Logger,
} from '@libs/platform';
import { isOpenAiPath, sendOpenAiError } from '../openai/openai-errors';
import { isFileUpload } from './file-body';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The parser would decode bad bytes to U+FFFD and store a text the client never sent: the body must
 * be UTF-8 (RFC 8259 §8.1) and every byte of it valid. body-parser turns what this throws into an
 * http-error, keeping its `type`, which problemFromError maps to a code.
 */
function verifyUtf8(_req: Request, _res: Response, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase() !== 'utf-8') {
    throw Object.assign(new Error(`JSON bodies are UTF-8; got charset ${encoding}`), {
      type: 'charset.unsupported',
    });
  }
  try {
    strictUtf8.decode(body);
  } catch {
    throw Object.assign(new Error('the body contains bytes that are not valid UTF-8'), {
      type: INVALID_ENCODING_ERROR_TYPE,
    });
  }
}

/**
 * JSON request bodies: a body must be declared application/json (415 otherwise), uncompressed (415
 * for any Content-Encoding: we accept none), valid UTF-8 (400), parse (400) and stay under the limit
 * (413). Runs before any route, so a bad request reaches no handler.
 */
export function jsonBody(maxBytes: number, logger: Logger) {
  const parse = express.json({
    limit: maxBytes,
    strict: true,
    inflate: false,
    type: () => true,
    verify: verifyUtf8,
  });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      // A document upload's body is the file, parsed by fileBody.
      if (!METHODS_WITH_BODY.has(req.method) || !hasBody(req) || isFileUpload(req)) return next();
      if (!req.is('application/json') && !req.is('application/*+json')) {
        const problem = problemFor(
          'unsupported-media-type',
          `got ${req.headers['content-type'] ?? 'no Content-Type'}`,
        );
        if (isOpenAiPath(req.path)) return sendOpenAiError(res, problem);
        return sendProblem(res, problem, req.originalUrl);
      }
      return parse(req, res, next);
    },
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(error);
      // The facade's clients parse OpenAI's error shape; a bad body there is never a 5xx to log.
      if (isOpenAiPath(req.path)) return sendOpenAiError(res, problemFromError(error));
      return answerProblem(logger, req, res, problemFromError(error), error);
    },
  ];
}
