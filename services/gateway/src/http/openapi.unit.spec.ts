import { ERROR_CATALOG, MAX_MESSAGE_BYTES, MAX_STREAM_SEQUENCE } from '@contracts';
import { ListEventsQuery, SendMessageBody, SendMessageHeaders } from '../conversations/conversations.schemas';
import { ReplaceIntentsHeaders } from '../settings/settings.schemas';
import { buildOpenApiDocument } from './openapi';

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema: Record<string, unknown>;
}
type Operation = { parameters?: Parameter[]; responses: Record<string, unknown> };

const document = buildOpenApiDocument() as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
};
const operation = (path: string, method: string): Operation => {
  const found = document.paths[path]?.[method];
  if (!found) throw new Error(`${method} ${path} is not in the document`);
  return found;
};
const parameter = (path: string, method: string, name: string): Parameter => {
  const found = operation(path, method).parameters?.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`${method} ${path} declares no parameter ${name}`);
  return found;
};

describe('the OpenAPI document declares what the server enforces', () => {
  it('bounds `after` by the stream positions the store holds, and the route refuses beyond', () => {
    const after = parameter('/v1/conversations/{id}/events', 'get', 'after');

    expect(after).toMatchObject({ in: 'query', required: false });
    expect(after.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: MAX_STREAM_SEQUENCE });
    expect(ListEventsQuery.safeParse({ after: String(MAX_STREAM_SEQUENCE) }).success).toBe(true);
    expect(ListEventsQuery.safeParse({ after: String(MAX_STREAM_SEQUENCE + 1) }).success).toBe(false);
    expect(parameter('/v1/conversations/{id}/events', 'get', 'limit').schema).toMatchObject({
      minimum: 1,
      maximum: 500,
    });
  });

  it('declares the Idempotency-Key header as the route checks it: at most 128 visible ASCII characters', () => {
    const header = parameter('/v1/conversations/{id}/messages', 'post', 'Idempotency-Key');

    expect(header).toMatchObject({ in: 'header', required: false });
    expect(header.schema).toMatchObject({ type: 'string', minLength: 1, maxLength: 128 });
    expect(SendMessageHeaders.safeParse({ 'idempotency-key': 'k'.repeat(128) }).success).toBe(true);
    expect(SendMessageHeaders.safeParse({ 'idempotency-key': 'k'.repeat(129) }).success).toBe(false);
    expect(SendMessageHeaders.safeParse({ 'idempotency-key': 'ключ' }).success).toBe(false);
  });

  it('states the message limit in bytes, with maxLength only as the character upper bound', () => {
    const text = document.components.schemas.SendMessage?.properties.text;

    expect(text?.maxLength).toBe(MAX_MESSAGE_BYTES);
    expect(text?.description).toContain(`${MAX_MESSAGE_BYTES} bytes of UTF-8`);
    expect(text?.description).toContain('upper bound');
    expect(SendMessageBody.safeParse({ text: '长'.repeat(11_000) }).success).toBe(false);
  });

  it('declares a 503 with Retry-After on every /v1 operation, and every error code', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const declared of Object.values(operations)) expect(declared.responses).toHaveProperty('503');
    }
    expect(document.components.schemas.Problem?.properties.code?.enum).toEqual(Object.keys(ERROR_CATALOG));
    expect(operation('/v1/conversations/{id}/messages', 'post').responses).toHaveProperty('422');
  });

  it('declares a 429 with Retry-After on every /v1 operation: OpenAI’s error shape on the facade', () => {
    type Response = { headers?: Record<string, unknown>; content: Record<string, { schema: unknown }> };
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const declared of Object.values(operations)) {
        const limited = declared.responses['429'] as Response;
        expect(limited.headers).toHaveProperty('Retry-After');
        const facade = path.startsWith('/v1/chat/') || path.startsWith('/v1/models');
        expect(Object.keys(limited.content)).toEqual([
          facade ? 'application/json' : 'application/problem+json',
        ]);
      }
    }
    expect(operation('/v1/chat/completions', 'post').parameters?.map((declared) => declared.name)).toEqual([
      'X-Conversation-Id',
      'Idempotency-Key',
    ]);
    expect(operation('/v1/settings/limits', 'put').responses).toHaveProperty('412');
  });

  it('declares the settings routes with their If-Match header, stale-version answers and 403', () => {
    const put = operation('/v1/settings/intents', 'put');

    expect(parameter('/v1/settings/intents', 'put', 'If-Match')).toMatchObject({
      in: 'header',
      required: false,
    });
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '409', '412']));
    expect(operation('/v1/settings', 'get').responses).toHaveProperty('403');
    expect(ReplaceIntentsHeaders.safeParse({ 'if-match': '"3"' }).success).toBe(true);
    expect(ReplaceIntentsHeaders.safeParse({ 'if-match': '3' }).success).toBe(false);
  });
});
