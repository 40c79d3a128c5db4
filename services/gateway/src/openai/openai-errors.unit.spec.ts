import { problemFor } from '@libs/platform';
import { isOpenAiPath, openAiErrorOf } from './openai-errors';

describe('errors in OpenAI’s shape', () => {
  it('keeps the status’s meaning in `type` and the engine’s code in snake case', () => {
    expect(openAiErrorOf(problemFor('conversation-not-found', 'No such conversation'))).toEqual({
      error: {
        message: 'No such conversation',
        type: 'invalid_request_error',
        param: null,
        code: 'conversation_not_found',
      },
    });
    expect(openAiErrorOf(problemFor('unauthorized')).error.code).toBe('invalid_api_key');
    expect(openAiErrorOf(problemFor('forbidden')).error.type).toBe('permission_error');
    expect(openAiErrorOf(problemFor('dependency-unavailable')).error.type).toBe('server_error');
  });

  it('names the limit of a 429 as OpenAI does (requests or tokens)', () => {
    const tokens = openAiErrorOf(problemFor('rate-limited', 'over', { limit: 'tokens', scope: 'key' }));
    expect(tokens.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', message: 'over' });
    expect(openAiErrorOf(problemFor('rate-limited', 'over', { limit: 'requests' })).error.type).toBe(
      'requests',
    );
  });

  it('names the first invalid field as `param`', () => {
    const problem = problemFor('validation-failed', 'bad', { errors: [{ path: 'messages', message: 'x' }] });
    expect(openAiErrorOf(problem).error.param).toBe('messages');
  });

  it('applies to the facade’s paths only', () => {
    expect(isOpenAiPath('/v1/chat/completions')).toBe(true);
    expect(isOpenAiPath('/v1/chat/completions/')).toBe(true);
    expect(isOpenAiPath('/v1/models/convo-engine')).toBe(true);
    expect(isOpenAiPath('/v1/conversations')).toBe(false);
    expect(isOpenAiPath('/v1/modelsx')).toBe(false);
  });
});
