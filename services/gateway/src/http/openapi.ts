import { z } from 'zod';
import {
  ClientFrameSchema,
  ConversationSearchSchema,
  ConversationStateAtSchema,
  ConversationEventSchema,
  ConversationViewSchema,
  DOCUMENT_MEDIA_TYPES,
  ERROR_CATALOG,
  KnowledgeDocumentPageSchema,
  KnowledgeDocumentViewSchema,
  KnowledgeSearchResultSchema,
  ReplaceIntentsBodySchema,
  ReplaceLimitsBodySchema,
  TenantSettingsViewSchema,
  ContentFilterViewSchema,
  ReplaceContentFilterBodySchema,
} from '@contracts';
import {
  AgentMessageBody,
  CloseConversationBody,
  ReturnToBotBody,
  SearchConversationsQuery,
  StateAtQuery,
  ConversationIdSchema,
  ListEventsQuery,
  SendMessageAccepted,
  SendMessageBody,
  SendMessageHeaders,
  StartConversationBody,
} from '../conversations/conversations.schemas';
import {
  DocumentIdParam,
  ListDocumentsParams,
  SearchKnowledgeBody,
  UploadDocumentParams,
} from '../knowledge/knowledge.schemas';
import { OPENAI_ERROR_SCHEMA, isOpenAiPath, openAiError, openAiPaths } from '../openai';
import { ReplaceIntentsHeaders } from '../settings/settings.schemas';
import { REVOKED_KEY_CLOSE_CODE, WS_PATH } from '../updates/conversation-updates';

const schema = (zodSchema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _ignored, ...json } = z.toJSONSchema(zodSchema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return json;
};

/** One parameter per field of a zod object: the same schema the route validates that part with. */
function parametersOf(zodObject: z.ZodObject, location: 'query' | 'header'): Record<string, unknown>[] {
  return Object.entries(zodObject.shape).map(([name, field]) => {
    const { description, ...fieldSchema } = schema(field as z.ZodType, 'input');
    return {
      // zod keys are header names as Node delivers them, in lower case; the document spells them as sent.
      name: location === 'header' ? name.replace(/(^|-)([a-z])/g, (letter) => letter.toUpperCase()) : name,
      in: location,
      required: !(field as z.ZodType).safeParse(undefined).success,
      ...(description === undefined ? {} : { description }),
      schema: fieldSchema,
    };
  });
}

const ConversationView = schema(ConversationViewSchema);

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const conversationId = (() => {
  const { description, ...idSchema } = schema(ConversationIdSchema, 'input');
  return { name: 'id', in: 'path', required: true, description, schema: idSchema };
})();

const unavailable = {
  description:
    'A dependency (the database) is unreachable: retry after `Retry-After` seconds with the same ' +
    'idempotency key (code `dependency-unavailable`)',
  headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'Seconds to wait' } },
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

const forbidden = problemResponse(
  'The key’s role may not use this route (code `forbidden`; the refusal is recorded in the audit log)',
);

const standardErrors = {
  '401': problemResponse('Missing, unknown or revoked API key'),
  '403': forbidden,
  '404': problemResponse('No such conversation for this tenant'),
  '503': unavailable,
};

const etagHeader = { schema: { type: 'string' }, description: 'The settings version, quoted: `"3"`' };

const bodyErrors = {
  '400': problemResponse(
    'Malformed JSON (`invalid-json`), bytes that are not UTF-8 (`invalid-encoding`) or invalid fields ' +
      '(`validation-failed`; the `errors` extension lists each)',
  ),
  '413': problemResponse('Body over the limit (64 KiB by default), or message text over 32 KiB of UTF-8'),
  '415': problemResponse(
    'Body not sent as application/json in UTF-8, or sent with a Content-Encoding (compressed bodies ' +
      'are not accepted)',
  ),
};

/** What a settings change (intents, limits) answers: one changeSettings step behind both routes. */
function settingsChangeResponses() {
  return {
    '200': {
      description: 'The new (or unchanged) version',
      headers: { ETag: etagHeader },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TenantSettings' } } },
    },
    ...bodyErrors,
    '401': standardErrors['401'],
    '403': forbidden,
    '409': problemResponse('`expectedVersion` is not the current version (`settings-version-conflict`)'),
    '412': problemResponse('`If-Match` does not name the current version (`precondition-failed`)'),
    '503': unavailable,
  };
}

const documentId = (() => {
  const { description, ...idSchema } = schema(DocumentIdParam, 'input');
  return { name: 'documentId', in: 'path', required: true, description, schema: idSchema };
})();

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });

const documentErrors = {
  '401': problemResponse('Missing, unknown or revoked API key'),
  '403': forbidden,
  '404': problemResponse('No such document for this tenant (never uploaded, or deleted)'),
  '503': unavailable,
};

/** The knowledge routes: documents (upload, progress, list, delete) and a direct search. */
function knowledgePaths(maxFileBytes: number): Record<string, Record<string, unknown>> {
  const mebibytes = Math.round((maxFileBytes / 1_048_576) * 10) / 10;
  return {
    '/v1/knowledge/documents': {
      get: {
        summary: 'The tenant’s knowledge documents, in id order, paginated',
        parameters: parametersOf(ListDocumentsParams, 'query'),
        responses: {
          '200': {
            description:
              'A page of documents; follow `nextAfter` until it is null (deleted documents are left ' +
              'out, so a page may be shorter than `limit`)',
            content: json('KnowledgeDocumentPage'),
          },
          '400': problemResponse('Bad pagination parameters'),
          '401': documentErrors['401'],
          '403': forbidden,
          '503': unavailable,
        },
      },
    },
    '/v1/knowledge/documents/{documentId}': {
      put: {
        summary: 'Upload or replace a knowledge document',
        description:
          'The request body is the file itself, sent with its media type as `Content-Type` (text ' +
          'formats in UTF-8): Markdown, HTML, plain text, PDF, DOCX, and XLSX or CSV FAQ sheets with ' +
          `\`question\` and \`answer\` columns; at most ${mebibytes} MiB. The title goes in the query. ` +
          'Uploading the same bytes under the same title again changes nothing (200); anything else ' +
          'records a new revision (202) that replaces every chunk of the previous one once indexed. ' +
          'Indexing runs in the background: poll `GET` on the same path for its progress.',
        parameters: [documentId, ...parametersOf(UploadDocumentParams, 'query')],
        requestBody: {
          required: true,
          content: Object.fromEntries(
            Object.keys(DOCUMENT_MEDIA_TYPES).map((mediaType) => [
              mediaType,
              { schema: { type: 'string', format: 'binary' } },
            ]),
          ),
        },
        responses: {
          '200': {
            description: 'Unchanged: this file and title are the live revision',
            content: json('KnowledgeDocument'),
          },
          '202': {
            description: 'A new revision was recorded; indexing follows',
            content: json('KnowledgeDocument'),
          },
          '400': problemResponse(
            'An empty file, a text format whose bytes are not UTF-8 (`invalid-encoding`), or a missing ' +
              'or invalid title (`validation-failed`)',
          ),
          '413': problemResponse(`File over ${mebibytes} MiB (KNOWLEDGE_MAX_FILE_BYTES)`),
          '415': problemResponse(
            `Content-Type not one of ${Object.keys(DOCUMENT_MEDIA_TYPES).join(', ')}; a charset other ` +
              'than UTF-8; or any Content-Encoding',
          ),
          ...documentErrors,
        },
      },
      get: {
        summary: 'A knowledge document and its indexing progress',
        parameters: [documentId],
        responses: {
          '200': {
            description:
              '`status` is `indexing` (with `chunksIndexed` of `chunksTotal`), `indexed` or `failed`',
            content: json('KnowledgeDocument'),
          },
          ...documentErrors,
        },
      },
      delete: {
        summary: 'Delete a knowledge document',
        description:
          'Its chunks leave both indexes shortly after. Deleting it again answers 204 as well; uploading ' +
          'it again starts a new revision.',
        parameters: [documentId],
        responses: { '204': { description: 'Deleted' }, ...documentErrors },
      },
    },
    '/v1/knowledge/search': {
      post: {
        summary: 'Search the tenant’s knowledge base (for agents and testing)',
        description:
          'The search a customer message gets: BM25 and vector top 20 fused by reciprocal rank fusion, ' +
          'best `topK` with citations. A search backend that is down marks its half `degraded` instead ' +
          'of failing the request.',
        requestBody: { required: true, content: json('SearchKnowledge') },
        responses: {
          '200': { description: 'Results, best first', content: json('KnowledgeSearchResult') },
          ...bodyErrors,
          '401': documentErrors['401'],
          '403': forbidden,
          '503': {
            ...unavailable,
            description:
              'The retrieval service is unreachable: retry after `Retry-After` seconds (code ' +
              '`dependency-unavailable`)',
          },
        },
      },
    },
  };
}

const rateLimitHeaders = {
  'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'Seconds until the window ends' },
  'RateLimit-Limit': { schema: { type: 'integer' }, description: 'Requests per minute of the tighter limit' },
  'RateLimit-Remaining': { schema: { type: 'integer' }, description: 'Requests left in this window' },
  'RateLimit-Reset': { schema: { type: 'integer' }, description: 'Seconds until the window ends' },
};

const rateLimited = (description: string, error: { content: unknown }) => ({
  description,
  headers: rateLimitHeaders,
  content: error.content,
});

const RATE_LIMITED =
  'Over the requests or tokens per minute of the tenant or of this key (`rate-limited`; the body ' +
  'says which): retry after `Retry-After` seconds';

/** Every authenticated operation is rate limited: each declares its 429 (OpenAI's shape on the facade). */
function withRateLimits(paths: Record<string, Record<string, unknown>>) {
  return Object.fromEntries(
    Object.entries(paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, operation]) => {
          const op = operation as { security?: unknown[]; responses: Record<string, unknown> };
          if (op.security?.length === 0) return [method, op];
          const error = isOpenAiPath(path) ? openAiError(RATE_LIMITED) : problemResponse(RATE_LIMITED);
          return [method, { ...op, responses: { ...op.responses, '429': rateLimited(RATE_LIMITED, error) } }];
        }),
      ),
    ]),
  );
}

/** The OpenAPI 3.1 document served at /docs, built from the same zod schemas the routes validate with. */
export function buildOpenApiDocument(
  { maxFileBytes }: { maxFileBytes: number } = { maxFileBytes: 10 * 1_048_576 },
): Record<string, unknown> {
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
        'reply streams), `state` after each change, `error`, and `pong` for `{"type":"ping"}`. With ' +
        '`"stateFrames":"compact"` in `subscribe`, each change sends `state-compact` instead: the state ' +
        'without its transcript (`transcriptLength` counts it) and the entries added since the previous ' +
        'state frame (`transcriptAdded`), so frames do not grow with the conversation. An ' +
        '`afterSequence` past the end of the stream is refused with an `error` frame (`validation-failed`, ' +
        'the detail names the stream’s version) and no subscription. When the key of an open socket is ' +
        `revoked, the socket is closed with code ${REVOKED_KEY_CLOSE_CODE} within the key cache TTL ` +
        '(30 s by default), as REST refuses it. Other methods on a declared path answer 405 with `Allow`. ' +
        'Client frame ' +
        `schema: ${JSON.stringify(schema(ClientFrameSchema))}`,
    },
    security: [{ apiKey: [] }],
    paths: withRateLimits({
      '/v1/conversations': {
        get: {
          summary: 'Find conversations by their readable reference',
          parameters: parametersOf(SearchConversationsQuery, 'query'),
          responses: {
            '200': {
              description: 'The conversations with that reference: none or one',
              content: { 'application/json': { schema: schema(ConversationSearchSchema) } },
            },
            '400': problemResponse('Not a reference'),
            '401': standardErrors['401'],
            '403': forbidden,
            '503': unavailable,
          },
        },
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
            '403': forbidden,
            '503': unavailable,
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
          parameters: [conversationId, ...parametersOf(SendMessageHeaders, 'header')],
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
            '422': problemResponse(
              'The idempotency key was already used with a different text (`idempotency-key-reused`), or the ' +
                'tenant’s word list blocks the message (`content-blocked`, with its `categories`; the refusal is ' +
                'recorded as `conversation.content-flagged.v1`)',
            ),
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
      '/v1/conversations/{id}/state': {
        get: {
          summary: 'The machine state (intent, slots, summary, handoff) as of any event',
          parameters: [conversationId, ...parametersOf(StateAtQuery, 'query')],
          responses: {
            '200': {
              description: 'The stream folded up to `at`',
              content: { 'application/json': { schema: schema(ConversationStateAtSchema) } },
            },
            ...standardErrors,
            '400': problemResponse('`at` is not a sequence'),
          },
        },
      },
      '/v1/conversations/{id}/agent-messages': {
        post: {
          summary: 'A human agent writes to the customer (only while the conversation is handed off)',
          parameters: [conversationId],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(AgentMessageBody, 'input') } },
          },
          responses: {
            '202': {
              description: 'Recorded; it reaches the customer over the WebSocket',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/MessageAccepted' } } },
            },
            ...bodyErrors,
            ...standardErrors,
            '409': problemResponse('Closed, or not handed off (`conversation-not-handed-off`)'),
            '422': problemResponse(
              'The idempotency key was already used with a different text (`idempotency-key-reused`), or the ' +
                'tenant’s word list blocks the message (`content-blocked`, with its `categories`: categories ' +
                'whose action is `block` or `handoff`; `mask` sends it masked). Either way recorded as an ' +
                'outbound `conversation.content-flagged.v1` with the message id',
            ),
          },
        },
      },
      '/v1/conversations/{id}/return-to-bot': {
        post: {
          summary: 'The human agent hands the conversation back to the bot',
          parameters: [conversationId],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(ReturnToBotBody, 'input') } },
          },
          responses: {
            '200': {
              description: 'Back with the bot',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Conversation' } } },
            },
            ...bodyErrors,
            ...standardErrors,
            '409': problemResponse('Closed, or not handed off (`conversation-not-handed-off`)'),
          },
        },
      },
      '/v1/conversations/{id}/events': {
        get: {
          summary: 'The conversation’s event stream, in order, paginated',
          parameters: [conversationId, ...parametersOf(ListEventsQuery, 'query')],
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
      ...knowledgePaths(maxFileBytes),
      '/v1/settings': {
        get: {
          summary: 'The tenant’s settings and the intents new conversations run under (admin keys)',
          responses: {
            '200': {
              description: 'The current version; its number is also the `ETag`',
              headers: { ETag: etagHeader },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TenantSettings' } } },
            },
            '401': standardErrors['401'],
            '403': forbidden,
            '503': unavailable,
          },
        },
      },
      '/v1/settings/intents': {
        put: {
          summary: 'Replace the tenant’s intents with their examples and slots (admin keys)',
          description:
            'Writes a new settings version with this intent list; the other settings stay. Conversations ' +
            'started afterwards run under the new version (their `configVersion`), open ones keep theirs. ' +
            'Send the version the change was made against as `If-Match` (412 when stale) or ' +
            '`expectedVersion` (409 when stale); a change that alters nothing answers 200 with the ' +
            'current version, so a retry is harmless.',
          parameters: parametersOf(ReplaceIntentsHeaders, 'header'),
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(ReplaceIntentsBodySchema, 'input') } },
          },
          responses: settingsChangeResponses(),
        },
      },
      '/v1/settings/limits': {
        put: {
          summary: 'Replace the tenant’s rate limits (admin keys)',
          description:
            'Requests and model tokens per minute for the tenant as a whole (`tenant`) and for each of ' +
            'its API keys (`perKey`); an absent value takes the gateway’s default. Every replica ' +
            'enforces them on counters shared in PostgreSQL, within `RATE_LIMITS_CACHE_TTL_MS` of the ' +
            'change. Tokens are estimated when a customer message arrives (its text and the reply it may ' +
            'cause) and, on the OpenAI facade, settled to the model’s count. A new settings version ' +
            '(`tenant.limits-set.v1`); If-Match or `expectedVersion` as for intents.',
          parameters: parametersOf(ReplaceIntentsHeaders, 'header'),
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(ReplaceLimitsBodySchema, 'input') } },
          },
          responses: settingsChangeResponses(),
        },
      },
      ...openAiPaths(),
      '/v1/settings/content-filter': {
        get: {
          summary: 'What the tenant’s sensitive-word list compiled to (admin keys; never the words)',
          responses: {
            '200': {
              description: 'Version, word count, categories, longest word',
              content: { 'application/json': { schema: schema(ContentFilterViewSchema) } },
            },
            '401': standardErrors['401'],
            '403': forbidden,
            '503': unavailable,
          },
        },
        put: {
          summary: 'Replace the tenant’s sensitive-word list (admin keys)',
          description:
            'The whole list with each category’s action: `mask` (the words are starred), `block` (a ' +
            'customer or agent message is refused with 422 `content-blocked`; a bot reply is replaced) or ' +
            '`handoff` (as block, and a human takes the conversation; for an agent, as block). Matching ignores width, case, traditional or ' +
            'simplified characters and separators between characters. Every service applies it within ' +
            'seconds, without a restart. Bodies up to `CONTENT_FILTER_MAX_BYTES` (16 MiB).',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(ReplaceContentFilterBodySchema, 'input') } },
          },
          responses: {
            '200': {
              description: 'The new list, compiled',
              content: { 'application/json': { schema: schema(ContentFilterViewSchema) } },
            },
            ...bodyErrors,
            '401': standardErrors['401'],
            '403': forbidden,
            '503': unavailable,
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
    }),
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Tenant API key (cek_…)' } },
      schemas: {
        StartConversation: schema(StartConversationBody, 'input'),
        SendMessage: schema(SendMessageBody, 'input'),
        CloseConversation: schema(CloseConversationBody, 'input'),
        MessageAccepted: schema(SendMessageAccepted),
        Conversation: ConversationView,
        ConversationEvent: schema(ConversationEventSchema),
        KnowledgeDocument: schema(KnowledgeDocumentViewSchema),
        KnowledgeDocumentPage: schema(KnowledgeDocumentPageSchema),
        SearchKnowledge: schema(SearchKnowledgeBody, 'input'),
        KnowledgeSearchResult: schema(KnowledgeSearchResultSchema),
        TenantSettings: schema(TenantSettingsViewSchema),
        OpenAIError: OPENAI_ERROR_SCHEMA,
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
