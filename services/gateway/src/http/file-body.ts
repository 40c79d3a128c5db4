import express, { type NextFunction, type Request, type Response } from 'express';
import { DOCUMENT_MEDIA_TYPES } from '@contracts';
import {
  INVALID_ENCODING_ERROR_TYPE,
  answerProblem,
  problemFor,
  problemFromError,
  sendProblem,
  type Logger,
} from '@libs/platform';
import { TEXT_FORMATS, charsetOf, documentFormatOf } from '../knowledge/knowledge.schemas';

const UPLOAD_PATH = /^\/v1\/knowledge\/documents\/[^/]+\/?$/i;

/** A document upload: its body is the file itself, not JSON. */
export function isFileUpload(req: Request): boolean {
  return req.method === 'PUT' && UPLOAD_PATH.test(req.path);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text formats are stored as sent and decoded as UTF-8 when indexed: other bytes would index garbage. */
function verifyText(req: Request, _res: Response, body: Buffer): void {
  const format = documentFormatOf(req.headers['content-type']);
  if (format === null || !TEXT_FORMATS.has(format)) return;
  try {
    strictUtf8.decode(body);
  } catch {
    throw Object.assign(new Error(`a ${format} document must be UTF-8; the body has other bytes`), {
      type: INVALID_ENCODING_ERROR_TYPE,
    });
  }
}

/**
 * Document uploads (`PUT /v1/knowledge/documents/{id}`): the raw file, its format named by its
 * Content-Type (415 for any other, for a charset other than UTF-8, or for any Content-Encoding), text
 * formats valid UTF-8 (400), at most `maxBytes` (413). Checked before the body is read where it can be,
 * so a refused upload is not buffered; runs before the JSON parser, which skips what it parsed.
 */
export function fileBody(maxBytes: number, logger: Logger) {
  const parse = express.raw({ limit: maxBytes, inflate: false, type: () => true, verify: verifyText });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      if (!isFileUpload(req)) return next();
      const contentType = req.headers['content-type'];
      const charset = charsetOf(contentType);
      if (documentFormatOf(contentType) === null || (charset !== null && charset !== 'utf-8')) {
        return sendProblem(
          res,
          problemFor(
            'unsupported-media-type',
            `got ${contentType ?? 'no Content-Type'}; send the file as one of ` +
              `${Object.keys(DOCUMENT_MEDIA_TYPES).join(', ')} (text in UTF-8)`,
          ),
          req.originalUrl,
        );
      }
      return parse(req, res, next);
    },
    (error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent || !isFileUpload(req)) return next(error);
      return answerProblem(logger, req, res, problemFromError(error), error);
    },
  ];
}
