import type { Response } from 'express';
import { AppError } from '@contracts';
import { problemFor, problemFromError, sendProblem, type Problem } from './problem';

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

describe('sendProblem', () => {
  /** The three Response methods sendProblem uses, recorded; the response is the port it is given. */
  function fakeResponse() {
    const calls: { status?: number; type?: string; body?: string } = {};
    const res = {
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
    return { res: res as unknown as Response, calls };
  }

  it('sends the problem as application/problem+json with its status and the instance', () => {
    const { res, calls } = fakeResponse();
    const problem: Problem = problemFor('conversation-not-found');

    sendProblem(res, problem, '/v1/conversations/abc');

    expect(calls.status).toBe(404);
    expect(calls.type).toBe('application/problem+json');
    expect(JSON.parse(calls.body ?? 'null')).toEqual({ ...problem, instance: '/v1/conversations/abc' });
  });

  it('leaves instance out when there is none', () => {
    const { res, calls } = fakeResponse();

    sendProblem(res, problemFor('unauthorized'));

    expect(JSON.parse(calls.body ?? 'null')).not.toHaveProperty('instance');
  });
});
