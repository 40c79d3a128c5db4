import type { Response } from 'express';
import { AppError } from '@contracts';
import type { Request } from 'express';
import type { Logger } from '../logger';
import {
  INVALID_ENCODING_ERROR_TYPE,
  answerProblem,
  isDependencyOutage,
  problemFor,
  problemFromError,
  sendProblem,
  type Problem,
} from './problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What body-parser (via http-errors) throws: an Error with `type`, `status` and `expose`. */
function bodyParserError(type: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: true });
}

describe('problemFor', () => {
  it('builds an RFC 9457 body from the catalog entry of the code', () => {
    expect(problemFor('conversation-closed', 'conversation 42 ended')).toEqual({
      type: '/problems/conversation-closed',
      title: 'The conversation is closed',
      status: 409,
      code: 'conversation-closed',
      detail: 'conversation 42 ended',
    });
  });

  it('omits detail entirely when none is given (no "detail": undefined key)', () => {
    const problem = problemFor('not-found');

    expect(problem).toEqual({
      type: '/problems/not-found',
      title: 'Not found',
      status: 404,
      code: 'not-found',
    });
    expect(Object.keys(problem)).not.toContain('detail');
  });

  it('adds extension members', () => {
    const problem = problemFor('validation-failed', 'bad', {
      errors: [{ path: 'text', message: 'too short' }],
    });

    expect(problem).toMatchObject({ status: 400, errors: [{ path: 'text', message: 'too short' }] });
  });
});

describe('problemFromError', () => {
  describe('given an AppError', () => {
    it.each([
      ['conversation-not-found', 404],
      ['conversation-exists', 409],
      ['concurrency-conflict', 409],
      ['message-too-large', 413],
      ['unauthorized', 401],
      ['validation-failed', 400],
    ] as const)('maps %s to %i with its message as detail and no errorId', (code, status) => {
      const problem = problemFromError(new AppError(code, 'what happened'));

      expect(problem).toEqual({
        type: `/problems/${code}`,
        title: expect.any(String),
        status,
        code,
        detail: 'what happened',
      });
      expect(problem.errorId).toBeUndefined();
    });

    it('uses the catalog title as detail when the error was thrown without a message', () => {
      expect(problemFromError(new AppError('conversation-closed')).detail).toBe('The conversation is closed');
    });

    it('carries the details as extension members', () => {
      const error = new AppError('validation-failed', 'text: too short', {
        errors: [{ path: 'text', message: 'too short' }],
      });

      expect(problemFromError(error)).toMatchObject({
        code: 'validation-failed',
        errors: [{ path: 'text', message: 'too short' }],
      });
    });

    it.each(['stream-corrupted', 'internal', 'dependency-unavailable'] as const)(
      'a server-side %s still gets an errorId, so the 5xx can be found in the log',
      (code) => {
        const problem = problemFromError(new AppError(code, 'stored event x is invalid'));

        expect(problem.status).toBeGreaterThanOrEqual(500);
        expect(problem.code).toBe(code);
        expect(problem.errorId).toMatch(UUID);
      },
    );
  });

  describe('given a body-parser error', () => {
    it.each([
      ['entity.parse.failed', 400, 'invalid-json', 400],
      ['entity.too.large', 413, 'payload-too-large', 413],
      ['encoding.unsupported', 415, 'unsupported-media-type', 415],
      ['charset.unsupported', 415, 'unsupported-media-type', 415],
    ] as const)(
      'maps %s (%i) to %s, %i, with the parser message as detail',
      (type, parserStatus, code, status) => {
        const problem = problemFromError(bodyParserError(type, `parser says ${type}`, parserStatus));

        expect(problem).toEqual({
          type: `/problems/${code}`,
          title: expect.any(String),
          status,
          code,
          detail: `parser says ${type}`,
        });
      },
    );

    it('a body its verifier found not to be UTF-8 becomes invalid-encoding, 400', () => {
      const error = bodyParserError(INVALID_ENCODING_ERROR_TYPE, 'not valid UTF-8', 403);

      expect(problemFromError(error)).toMatchObject({ status: 400, code: 'invalid-encoding' });
    });

    it('a 4xx http-error without a known type (a corrupt gzip stream) keeps its 4xx, never a 500', () => {
      const zlibError = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' });
      const wrapped = Object.assign(zlibError, { status: 400, statusCode: 400, expose: true });

      expect(problemFromError(wrapped)).toMatchObject({ status: 400, code: 'validation-failed' });
      expect(problemFromError(bodyParserError('whatever', 'm', 415))).toMatchObject({
        status: 415,
        code: 'unsupported-media-type',
      });
    });

    it('a 5xx or unexposed http-error stays an internal error', () => {
      const hidden = Object.assign(new Error('x'), { status: 400, expose: false });

      expect(problemFromError(hidden).code).toBe('internal');
      expect(problemFromError(bodyParserError('whatever', 'm', 502)).code).toBe('internal');
    });

    it('a real JSON.parse SyntaxError tagged by body-parser becomes invalid-json', () => {
      let syntaxError: unknown;
      try {
        JSON.parse('{"text": ');
      } catch (error) {
        syntaxError = Object.assign(error as Error, { type: 'entity.parse.failed', status: 400 });
      }

      expect(problemFromError(syntaxError)).toMatchObject({ status: 400, code: 'invalid-json' });
    });
  });

  describe('given anything else', () => {
    it.each([
      ['an Error', new Error('connection to db lost: password=hunter2')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
      ['an object with an unrelated type', { type: 'something.else', message: 'x' }],
      ['a string', 'boom'],
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
    ])('%s becomes a 500 internal problem with an errorId and no leaked message', (_label, error) => {
      const problem = problemFromError(error);

      expect(problem).toMatchObject({ type: '/problems/internal', status: 500, code: 'internal' });
      expect(problem.errorId).toMatch(UUID);
      expect(JSON.stringify(problem)).not.toMatch(/hunter2|Cannot read|boom/);
    });

    it('gives every failure its own errorId', () => {
      const first = problemFromError(new Error('x'));
      const second = problemFromError(new Error('x'));

      expect(first.errorId).not.toBe(second.errorId);
    });
  });
});

describe('given the database is unreachable', () => {
  /** What pg, pg-pool and typeorm throw, as they throw it. */
  const pgError = (message: string, code?: string) => Object.assign(new Error(message), { code });
  const queryFailed = (driverError: Error) =>
    Object.assign(new Error(driverError.message), { name: 'QueryFailedError', driverError });

  it.each([
    ['connection refused', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['connection reset', pgError('read ECONNRESET', 'ECONNRESET')],
    ['a connection terminated mid-query', pgError('Connection terminated unexpectedly')],
    ['the pool timing out', pgError('timeout exceeded when trying to connect')],
    ['a connection timeout', pgError('Connection terminated due to connection timeout')],
    ['SQLSTATE 08006 (connection failure)', pgError('connection failure', '08006')],
    ['SQLSTATE 08001 (cannot connect)', pgError('could not connect', '08001')],
    [
      'SQLSTATE 57P01 (admin shutdown)',
      pgError('terminating connection due to administrator command', '57P01'),
    ],
    ['SQLSTATE 57P02 (crash shutdown)', pgError('crash shutdown', '57P02')],
    ['SQLSTATE 57P03 (cannot connect now)', pgError('the database system is starting up', '57P03')],
    ['a typeorm QueryFailedError wrapping a lost connection', queryFailed(pgError('x', '57P01'))],
    [
      'an error whose cause is a refused connection',
      new Error('lookup failed', { cause: pgError('', 'ECONNREFUSED') }),
    ],
  ])('%s is a retryable 503 dependency-unavailable with an errorId', (_label, error) => {
    const problem = problemFromError(error);

    expect(isDependencyOutage(error)).toBe(true);
    expect(problem).toMatchObject({ status: 503, code: 'dependency-unavailable' });
    expect(problem.errorId).toMatch(UUID);
  });

  it.each([
    ['a unique violation', pgError('duplicate key value', '23505')],
    ['a syntax error', pgError('syntax error at or near "SELEC"', '42601')],
    [
      'a typeorm QueryFailedError for a bad query',
      queryFailed(pgError('relation "x" does not exist', '42P01')),
    ],
  ])('%s is no outage: a 500', (_label, error) => {
    expect(isDependencyOutage(error)).toBe(false);
    expect(problemFromError(error).code).toBe('internal');
  });
});

describe('sendProblem', () => {
  /** The three Response methods sendProblem uses, recorded; the response is the port it is given. */
  function fakeResponse() {
    const calls: { status?: number; type?: string; body?: string } = {};
    const headers: Record<string, string> = {};
    const res = {
      setHeader(name: string, value: string) {
        headers[name.toLowerCase()] = value;
        return res;
      },
      status(code: number) {
        calls.status = code;
        return res;
      },
      type(value: string) {
        calls.type = value;
        return res;
      },
      send(body: string) {
        calls.body = body;
        return res;
      },
    };
    return { res: res as unknown as Response, calls, headers };
  }

  it('sends the problem as application/problem+json with its status and the instance', () => {
    const { res, calls } = fakeResponse();
    const problem: Problem = problemFor('conversation-not-found');

    sendProblem(res, problem, '/v1/conversations/abc');

    expect(calls.status).toBe(404);
    expect(calls.type).toBe('application/problem+json');
    expect(JSON.parse(calls.body ?? 'null')).toEqual({ ...problem, instance: '/v1/conversations/abc' });
  });

  it('tells a client when to retry a 503, and only a 503', () => {
    const unavailable = fakeResponse();
    const closed = fakeResponse();

    sendProblem(unavailable.res, problemFromError(new AppError('dependency-unavailable')));
    sendProblem(closed.res, problemFor('conversation-closed'));

    expect(Number(unavailable.headers['retry-after'])).toBeGreaterThan(0);
    expect(closed.headers).not.toHaveProperty('retry-after');
  });

  it('leaves instance out when there is none', () => {
    const { res, calls } = fakeResponse();

    sendProblem(res, problemFor('unauthorized'));

    expect(JSON.parse(calls.body ?? 'null')).not.toHaveProperty('instance');
  });
});

describe('answerProblem', () => {
  function recordingLogger() {
    const entries: { object: Record<string, unknown>; message: string }[] = [];
    const logger = {
      error: (object: Record<string, unknown>, message: string) => entries.push({ object, message }),
    };
    return { logger: logger as unknown as Logger, entries };
  }
  const req = { originalUrl: '/v1/conversations' } as Request;
  const res = () => {
    const fake = {
      setHeader: () => fake,
      status: () => fake,
      type: () => fake,
      send: () => fake,
    };
    return fake as unknown as Response;
  };

  it('logs a 5xx with the errorId its body carries', () => {
    const { logger, entries } = recordingLogger();
    const error = new Error('boom');
    const problem = problemFromError(error);

    answerProblem(logger, req, res(), problem, error);

    expect(entries).toEqual([
      {
        object: { err: error, errorId: problem.errorId, url: '/v1/conversations' },
        message: 'request failed',
      },
    ]);
  });

  it('does not log a client error', () => {
    const { logger, entries } = recordingLogger();

    answerProblem(logger, req, res(), problemFor('invalid-json'), new Error('bad'));

    expect(entries).toEqual([]);
  });
});
