import { z } from 'zod';
import {
  ClientFrameSchema,
  ConversationEventSchema,
  ConversationViewSchema,
  ERROR_CATALOG,
} from '@contracts';
import {
  CloseConversationBody,
  SendMessageAccepted,
  SendMessageBody,
  StartConversationBody,
} from '../conversations/conversations.schemas';
import { WS_PATH } from '../updates/conversation-updates';

const schema = (zodSchema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _ignored, ...json } = z.toJSONSchema(zodSchema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return json;
};

const ConversationView = schema(ConversationViewSchema);

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const conversationId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
  description: 'Conversation id; another tenant’s conversation answers 404 like an unknown one.',
};

const standardErrors = {
  '401': problemResponse('Missing, unknown or revoked API key'),
  '404': problemResponse('No such conversation for this tenant'),
};

const bodyErrors = {
  '400': problemResponse('Malformed JSON or invalid fields (the `errors` extension lists each)'),
  '413': problemResponse('Body over the limit, or message text over 32 KiB'),
  '415': problemResponse('Body not sent as application/json'),
};

/** The OpenAPI 3.1 document served at /docs, built from the same zod schemas the routes validate with. */
export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Conversation engine gateway',
      version: '1.0.0',
      description:
        'REST and WebSocket API for contact-centre frontends. Every `/v1` call carries ' +
        '`Authorization: Bearer <tenant API key>`; the tenant always comes from the key. Errors are ' +
        `RFC 9457 problem+json with a \`code\`: ${Object.keys(ERROR_CATALOG).join(', ')}.\n\n` +
        `**WebSocket** \`${WS_PATH}\` (RFC 6455, JSON text frames; key in the Authorization header or ` +
        '`?api_key=`). Send `{"type":"subscribe","conversationId":"…","afterSequence":0}` (omit ' +
        '`afterSequence` for live events only). Receive `subscribed` (with the state), `event` (every ' +
        'event of the conversation, including `conversation.reply-chunk-generated.v1` chunks as the ' +
        'reply streams), `state` after each change, `error`, and `pong` for `{"type":"ping"}`. Client frame ' +
        `schema: ${JSON.stringify(schema(ClientFrameSchema))}`,
    },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/conversations': {
        post: {
          summary: 'Open a conversation',
          requestBody: {
            required: false,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/StartConversation' } } },
          },
          responses: {
            '201': {
              description: 'Opened',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Conversation' } } },
            },
            ...bodyErrors,
            '401': standardErrors['401'],
          },
        },
      },
      '/v1/conversations/{id}': {
        get: {
          summary: 'Current state of a conversation',
          parameters: [conversationId],
          responses: {
            '200': {
              description: 'State',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Conversation' } } },
            },
            ...standardErrors,
          },
        },
      },
      '/v1/conversations/{id}/messages': {
        post: {
          summary: 'Send a customer message',
          description:
            'Accepted once recorded in the event store; the reply streams over the WebSocket. Send ' +
            '`clientMessageId` (or an `Idempotency-Key` header) to make retries safe.',
          parameters: [
            conversationId,
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 128 },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/SendMessage' } } },
          },
          responses: {
            '202': {
              description: 'Recorded',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/MessageAccepted' } } },
            },
            ...bodyErrors,
            ...standardErrors,
            '409': problemResponse('The conversation is closed'),
          },
        },
      },
      '/v1/conversations/{id}/close': {
        post: {
          summary: 'Close a conversation',
          parameters: [conversationId],
          requestBody: {
            required: false,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/CloseConversation' } } },
          },
          responses: {
            '200': {
              description: 'Closed',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Conversation' } } },
            },
            ...bodyErrors,
            ...standardErrors,
          },
        },
      },
      '/v1/conversations/{id}/events': {
        get: {
          summary: 'The conversation’s event stream, in order, paginated',
          parameters: [
            conversationId,
            { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            },
          ],
          responses: {
            '200': {
              description: 'A page of events; follow `nextAfter` until it is null',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      conversationId: { type: 'string', format: 'uuid' },
                      events: { type: 'array', items: { $ref: '#/components/schemas/ConversationEvent' } },
                      nextAfter: { type: ['integer', 'null'] },
                    },
                  },
                },
              },
            },
            ...standardErrors,
            '400': problemResponse('Bad pagination parameters'),
          },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: PostgreSQL and Kafka answer',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'A dependency is down' } },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Tenant API key (cek_…)' } },
      schemas: {
        StartConversation: schema(StartConversationBody, 'input'),
        SendMessage: schema(SendMessageBody, 'input'),
        CloseConversation: schema(CloseConversationBody, 'input'),
        MessageAccepted: schema(SendMessageAccepted),
        Conversation: ConversationView,
        ConversationEvent: schema(ConversationEventSchema),
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string', enum: Object.keys(ERROR_CATALOG) },
            detail: { type: 'string' },
            instance: { type: 'string' },
            errorId: { type: 'string', description: 'Present on 5xx; quote it when reporting' },
          },
        },
      },
    },
  };
}
