import type { z } from 'zod';
import {
  ConversationSearchSchema,
  ConversationStateAtSchema,
  ConversationViewSchema,
  EventPageSchema,
  KnowledgeDocumentPageSchema,
  KnowledgeDocumentViewSchema,
  KnowledgeSearchResultSchema,
  MessageAcceptedSchema,
  TenantSettingsViewSchema,
  ContentFilterViewSchema,
  type ContentFilterView,
  type ReplaceContentFilterBody,
  type ConversationEvent,
  type ConversationSearch,
  type ConversationStateAt,
  type ConversationView,
  type DocumentMediaType,
  type EventData,
  type EventPage,
  type KnowledgeDocumentPage,
  type KnowledgeDocumentView,
  type KnowledgeSearchResult,
  type IntentDefinition,
  type MessageAccepted,
  type TenantSettingsView,
} from '@contracts';
import { ContractViolationError, GatewayError } from './gateway-error';
import { GatewaySocket, type WaitOptions } from './gateway-socket';

export interface StartConversationInput {
  channel?: EventData<'conversation.started.v2'>['channel'];
  locale?: string | null;
  labels?: Record<string, string>;
}

export type CloseReason = EventData<'conversation.closed.v1'>['reason'];

/**
 * The version a settings change was made against: sent as `If-Match` (412 when stale) or in the body
 * as `expectedVersion` (409 when stale). Without either, the change applies to whatever is current.
 */
export type SettingsPrecondition = { ifMatch: number } | { expectedVersion: number } | Record<string, never>;

export interface SendMessageOptions {
  /** Retrying with the same id records the message once and answers with the same messageId. */
  clientMessageId?: string;
  /** The same guarantee through the `Idempotency-Key` header (`clientMessageId` wins when both are sent). */
  idempotencyKey?: string;
}

/** An HTTP answer as it came: for calls that expect errors (tests of bad input). */
export interface RawResponse {
  status: number;
  contentType: string;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: unknown;
}

export interface SearchKnowledgeInput {
  query: string;
  topK?: number;
  mode?: 'hybrid' | 'keyword' | 'vector';
}

export interface DocumentUploaded {
  /** False when this file under this title was the live revision already (200): nothing recorded. */
  changed: boolean;
  document: KnowledgeDocumentView;
}

export interface RequestOptions {
  json?: unknown;
  /** A body sent as is (malformed JSON, another content type, a file...). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

/**
 * A contact-centre frontend's view of the gateway: the REST API with a tenant's key, each answer
 * validated against the contracts' schemas, errors as GatewayError (problem+json `status` and `code`),
 * and WebSocket sessions (`connect`).
 */
export class GatewayClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly apiKey: string | null,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get wsUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/v1/ws`;
  }

  startConversation(input: StartConversationInput = {}): Promise<ConversationView> {
    return this.call('POST', '/v1/conversations', 201, ConversationViewSchema, { json: input });
  }

  sendMessage(
    conversationId: string,
    text: string,
    { clientMessageId, idempotencyKey }: SendMessageOptions = {},
  ): Promise<MessageAccepted> {
    return this.call('POST', `${conversationPath(conversationId)}/messages`, 202, MessageAcceptedSchema, {
      json: clientMessageId === undefined ? { text } : { text, clientMessageId },
      headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
    });
  }

  closeConversation(conversationId: string, reason?: CloseReason): Promise<ConversationView> {
    return this.call('POST', `${conversationPath(conversationId)}/close`, 200, ConversationViewSchema, {
      json: reason === undefined ? {} : { reason },
    });
  }

  getConversation(conversationId: string): Promise<ConversationView> {
    return this.call('GET', conversationPath(conversationId), 200, ConversationViewSchema);
  }

  /** The machine's state (intent, slots, summary, handoff) as of event `at`; without it, the live state. */
  getState(conversationId: string, at?: number): Promise<ConversationStateAt> {
    const query = at === undefined ? '' : `?at=${at}`;
    return this.call(
      'GET',
      `${conversationPath(conversationId)}/state${query}`,
      200,
      ConversationStateAtSchema,
    );
  }

  /** Conversations with a readable reference (`<tenant>-<yyyymmdd>-<8 chars>`). */
  findByReference(reference: string): Promise<ConversationSearch> {
    const query = new URLSearchParams({ reference });
    return this.call('GET', `/v1/conversations?${query.toString()}`, 200, ConversationSearchSchema);
  }

  /** A human agent writes to the customer of a handed-off conversation. */
  sendAgentMessage(conversationId: string, agentId: string, text: string): Promise<MessageAccepted> {
    return this.call(
      'POST',
      `${conversationPath(conversationId)}/agent-messages`,
      202,
      MessageAcceptedSchema,
      {
        json: { agentId, text },
      },
    );
  }

  returnToBot(conversationId: string, agentId: string): Promise<ConversationView> {
    return this.call(
      'POST',
      `${conversationPath(conversationId)}/return-to-bot`,
      200,
      ConversationViewSchema,
      {
        json: { agentId },
      },
    );
  }

  /** One page of the stream: events with a sequence above `after`; follow `nextAfter` until null. */
  listEvents(
    conversationId: string,
    { after = 0, limit = 100 }: { after?: number; limit?: number } = {},
  ): Promise<EventPage> {
    const query = new URLSearchParams({ after: String(after), limit: String(limit) });
    return this.call(
      'GET',
      `${conversationPath(conversationId)}/events?${query.toString()}`,
      200,
      EventPageSchema,
    );
  }

  /** The whole stream, page by page. */
  async allEvents(
    conversationId: string,
    { pageSize = 100 }: { pageSize?: number } = {},
  ): Promise<ConversationEvent[]> {
    const events: ConversationEvent[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: EventPage = await this.listEvents(conversationId, { after, limit: pageSize });
      events.push(...page.events);
      after = page.nextAfter;
    }
    return events;
  }

  /** Uploads (or replaces) a knowledge document: the file's bytes, sent with their media type. */
  async uploadDocument(
    documentId: string,
    file: { title: string; mediaType: DocumentMediaType; content: Uint8Array },
  ): Promise<DocumentUploaded> {
    const path = `${documentPath(documentId)}?${new URLSearchParams({ title: file.title }).toString()}`;
    const what = `PUT ${path}`;
    const response = await this.request('PUT', path, {
      raw: file.content,
      headers: { 'content-type': file.mediaType },
    });
    if (response.status !== 200 && response.status !== 202)
      throw GatewayError.fromResponse(response.status, response.body, what);
    const parsed = KnowledgeDocumentViewSchema.safeParse(response.body);
    if (!parsed.success) throw new ContractViolationError(what, parsed.error.message);
    return { changed: response.status === 202, document: parsed.data };
  }

  /** A document and its indexing progress. */
  getDocument(documentId: string): Promise<KnowledgeDocumentView> {
    return this.call('GET', documentPath(documentId), 200, KnowledgeDocumentViewSchema);
  }

  listDocuments({ after, limit }: { after?: string; limit?: number } = {}): Promise<KnowledgeDocumentPage> {
    const query = new URLSearchParams();
    if (after !== undefined) query.set('after', after);
    if (limit !== undefined) query.set('limit', String(limit));
    return this.call('GET', `/v1/knowledge/documents?${query.toString()}`, 200, KnowledgeDocumentPageSchema);
  }

  async deleteDocument(documentId: string): Promise<void> {
    const response = await this.request('DELETE', documentPath(documentId));
    if (response.status !== 204)
      throw GatewayError.fromResponse(response.status, response.body, `DELETE ${documentPath(documentId)}`);
  }

  /** The tenant's knowledge base searched as a customer message would be. */
  searchKnowledge(input: SearchKnowledgeInput): Promise<KnowledgeSearchResult> {
    return this.call('POST', '/v1/knowledge/search', 200, KnowledgeSearchResultSchema, { json: input });
  }

  /** The tenant's settings and the intents new conversations run under (admin keys). */
  getSettings(): Promise<TenantSettingsView> {
    return this.call('GET', '/v1/settings', 200, TenantSettingsViewSchema);
  }

  /** A new settings version with these intents (labels, examples, slots); the rest stays (admin keys). */
  replaceIntents(
    intents: IntentDefinition[],
    precondition: SettingsPrecondition = {},
  ): Promise<TenantSettingsView> {
    const expectedVersion = 'expectedVersion' in precondition ? precondition.expectedVersion : undefined;
    const ifMatch = 'ifMatch' in precondition ? precondition.ifMatch : undefined;
    return this.call('PUT', '/v1/settings/intents', 200, TenantSettingsViewSchema, {
      json: expectedVersion === undefined ? { intents } : { intents, expectedVersion },
      headers: ifMatch === undefined ? {} : { 'if-match': `"${ifMatch}"` },
    });
  }

  /** What the tenant's sensitive-word list compiled to (admin keys). */
  getContentFilter(): Promise<ContentFilterView> {
    return this.call('GET', '/v1/settings/content-filter', 200, ContentFilterViewSchema);
  }

  /** Replaces the tenant's sensitive-word list with `list` (admin keys); every service applies it within seconds. */
  replaceContentFilter(list: ReplaceContentFilterBody): Promise<ContentFilterView> {
    return this.call('PUT', '/v1/settings/content-filter', 200, ContentFilterViewSchema, { json: list });
  }

  /** Opens a WebSocket session with this client's key. */
  connect(options: WaitOptions = {}): Promise<GatewaySocket> {
    return GatewaySocket.open(this.wsUrl, this.apiKey, options);
  }

  /** Any request, answered as it came (no status check, no validation). */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: parseJson(text),
    };
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    expectedStatus: number,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.infer<S>> {
    const what = `${method} ${path}`;
    const response = await this.request(method, path, options);
    if (response.status !== expectedStatus)
      throw GatewayError.fromResponse(response.status, response.body, what);
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) throw new ContractViolationError(what, parsed.error.message);
    return parsed.data;
  }
}

function conversationPath(conversationId: string): string {
  return `/v1/conversations/${encodeURIComponent(conversationId)}`;
}

function documentPath(documentId: string): string {
  return `/v1/knowledge/documents/${encodeURIComponent(documentId)}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
