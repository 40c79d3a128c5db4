import type { NextFunction, Request, Response } from 'express';
import { problemFor, sendProblem } from '@libs/platform';
import { isOpenAiPath, sendOpenAiError } from '../openai/openai-errors';

/** The `paths` of an OpenAPI document: path template -> method (lower case) -> operation. */
export type DeclaredPaths = Record<string, Record<string, unknown>>;

interface DeclaredPath {
  pattern: RegExp;
  allowed: string[];
}

function declaredPath(template: string, operations: Record<string, unknown>): DeclaredPath {
  const literal = template.split(/\{[^/}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const methods = Object.keys(operations).map((method) => method.toUpperCase());
  // Express answers HEAD with the GET route, so HEAD is allowed wherever GET is.
  const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
  return { pattern: new RegExp(`^${literal.join('[^/]+')}/?$`, 'i'), allowed };
}

/**
 * Another method on a path the API document declares answers 405 with `Allow` (RFC 9110 §15.5.6),
 * not Nest's 404. The allowed methods come from the document itself, so the two cannot disagree.
 */
export function methodNotAllowed(paths: DeclaredPaths) {
  const declared = Object.entries(paths).map(([template, operations]) => declaredPath(template, operations));
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = declared.find((path) => path.pattern.test(req.path));
    if (!match || match.allowed.includes(req.method)) return next();
    res.setHeader('Allow', match.allowed.join(', '));
    const problem = problemFor(
      'method-not-allowed',
      `${req.method} is not allowed here; use ${match.allowed.join(', ')}`,
    );
    if (isOpenAiPath(req.path)) return sendOpenAiError(res, problem);
    sendProblem(res, problem, req.originalUrl);
  };
}
