import { z } from 'zod';
import { ChatCompletionBody, ChatCompletionHeaders, ENGINE_MODEL } from './openai.schemas';

const inputSchema = (zodSchema: z.ZodType) => {
  const { $schema: _ignored, ...json } = z.toJSONSchema(zodSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  });
  return json;
};

/** OpenAI's error body, which its client libraries turn into typed errors. */
export const OPENAI_ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: {
        message: { type: 'string' },
        type: {
          type: 'string',
          description:
            '`invalid_request_error`, `permission_error`, `requests` or `tokens` (429), `server_error`',
        },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'null'], description: 'The engine’s error code in snake case' },
      },
    },
  },
};

export const openAiError = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/OpenAIError' } } },
});

const Model = {
  type: 'object',
  required: ['id', 'object', 'created', 'owned_by'],
  properties: {
    id: { type: 'string', const: ENGINE_MODEL.id },
    object: { type: 'string', const: 'model' },
    created: { type: 'integer' },
    owned_by: { type: 'string' },
  },
};

const Usage = {
  type: 'object',
  required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
  properties: {
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    total_tokens: { type: 'integer' },
  },
};

const ChatCompletion = {
  type: 'object',
  required: ['id', 'object', 'created', 'model', 'choices', 'usage'],
  properties: {
    id: { type: 'string', description: '`chatcmpl-<messageId>`: the same for a retry with the same key' },
    object: { type: 'string', const: 'chat.completion' },
    created: { type: 'integer' },
    model: { type: 'string' },
    choices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'message', 'finish_reason'],
        properties: {
          index: { type: 'integer' },
          message: {
            type: 'object',
            required: ['role', 'content'],
            properties: {
              role: { type: 'string', const: 'assistant' },
              content: { type: 'string' },
              refusal: { type: 'null' },
            },
          },
          logprobs: { type: 'null' },
          finish_reason: { type: 'string', enum: ['stop', 'length', 'content_filter'] },
        },
      },
    },
    usage: Usage,
  },
};

const conversationHeader = {
  schema: { type: 'string', format: 'uuid' },
  description: 'The conversation the call went to: send it back as X-Conversation-Id to continue it',
};

/** The facade's paths: OpenAI's chat completions and models, errors in OpenAI's shape. */
export function openAiPaths(): Record<string, Record<string, unknown>> {
  const [conversationIdHeader, idempotencyHeader] = Object.entries(ChatCompletionHeaders.shape).map(
    ([name, field]) => {
      const { description, ...fieldSchema } = inputSchema(field);
      return {
        name: name === 'x-conversation-id' ? 'X-Conversation-Id' : 'Idempotency-Key',
        in: 'header',
        required: false,
        ...(description === undefined ? {} : { description }),
        schema: fieldSchema,
      };
    },
  );
  const authErrors = {
    '401': openAiError('Missing, unknown or revoked API key (`invalid_api_key`)'),
    '403': openAiError('The key’s role may not use the facade (frontend and agent keys may)'),
    '503': {
      ...openAiError('A dependency is unreachable, or no reply could be generated: retry later'),
      headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } },
    },
  };
  return {
    '/v1/chat/completions': {
      post: {
        operationId: 'createChatCompletion',
        tags: ['OpenAI-compatible'],
        summary: 'OpenAI chat completion: the last user message is the customer’s next message',
        description:
          'The whole engine answers (intents, slots, knowledge, model with fallback), and the ' +
          'conversation is recorded, visible and audited like any other. The conversation is the one ' +
          'named by `X-Conversation-Id` (created on first use), else the `user`’s, else a new one of a ' +
          'single turn (closed once answered). Only the last message is read. With `stream: true` the ' +
          'answer is `text/event-stream`: `chat.completion.chunk` events as the reply streams, then ' +
          '`data: [DONE]`; an error after the stream started is an `{"error":…}` event. Errors are in ' +
          'OpenAI’s shape with the engine’s code.',
        parameters: [conversationIdHeader, idempotencyHeader],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: inputSchema(ChatCompletionBody) } },
        },
        responses: {
          '200': {
            description: 'The bot’s answer',
            headers: { 'X-Conversation-Id': conversationHeader },
            content: {
              'application/json': { schema: ChatCompletion },
              'text/event-stream': {
                schema: { type: 'string', description: 'Server-sent `chat.completion.chunk` events' },
              },
            },
          },
          '400': openAiError('Malformed JSON or invalid fields (`param` names the first)'),
          ...authErrors,
          '404': openAiError(
            'Unknown model (`model_not_found`), or a conversation of another tenant (`conversation_not_found`)',
          ),
          '409': openAiError('The conversation is closed (`conversation_closed`)'),
          '413': openAiError('Body over the limit, or a message over 32 KiB of UTF-8'),
          '415': openAiError('Body not sent as application/json in UTF-8, or compressed'),
          '422': openAiError('The Idempotency-Key was already used with a different message'),
          '504': openAiError(
            'The message was recorded but no reply came in time (`reply_timed_out`): retry with the same Idempotency-Key',
          ),
        },
      },
    },
    '/v1/models': {
      get: {
        operationId: 'listModels',
        tags: ['OpenAI-compatible'],
        summary: 'OpenAI model list: the one model the facade serves, the engine itself',
        responses: {
          '200': {
            description: 'The models',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['object', 'data'],
                  properties: {
                    object: { type: 'string', const: 'list' },
                    data: { type: 'array', items: Model },
                  },
                },
              },
            },
          },
          ...authErrors,
        },
      },
    },
    '/v1/models/{model}': {
      get: {
        operationId: 'retrieveModel',
        tags: ['OpenAI-compatible'],
        summary: 'OpenAI model retrieval',
        parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'The model', content: { 'application/json': { schema: Model } } },
          ...authErrors,
          '404': openAiError('No such model (`model_not_found`)'),
        },
      },
    },
  };
}
