/**
 * Every error the engine reports carries one of these codes. The gateway maps them to RFC 9457
 * problem+json (`type` is `/problems/<code>`); consumers use `retryable` to choose retry or dead-letter.
 */
export const ERROR_CATALOG = {
  unauthorized: { status: 401, title: 'Missing or invalid API key', retryable: false },
  forbidden: { status: 403, title: "The API key's role does not allow this", retryable: false },
  'invalid-json': { status: 400, title: 'The request body is not valid JSON', retryable: false },
  'invalid-encoding': { status: 400, title: 'The request body is not valid UTF-8', retryable: false },
  'validation-failed': { status: 400, title: 'The request is not valid', retryable: false },
  'unsupported-media-type': { status: 415, title: 'Content-Type must be application/json', retryable: false },
  'payload-too-large': { status: 413, title: 'The request body is too large', retryable: false },
  'message-too-large': { status: 413, title: 'The message is longer than 32 KiB', retryable: false },
  'not-found': { status: 404, title: 'Not found', retryable: false },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this path', retryable: false },
  'conversation-not-found': { status: 404, title: 'No such conversation for this tenant', retryable: false },
  'conversation-exists': { status: 409, title: 'The conversation already exists', retryable: false },
  'conversation-closed': { status: 409, title: 'The conversation is closed', retryable: false },
  'conversation-not-handed-off': {
    status: 409,
    title: 'The conversation is not with a human agent',
    retryable: false,
  },
  'concurrency-conflict': {
    status: 409,
    title: 'The conversation changed meanwhile; retry',
    retryable: true,
  },
  'settings-version-conflict': {
    status: 409,
    title: 'The tenant settings changed since the expected version; read them again',
    retryable: false,
  },
  'precondition-failed': {
    status: 412,
    title: 'If-Match does not name the current version; read it again',
    retryable: false,
  },
  'idempotency-key-reused': {
    status: 422,
    title: 'The idempotency key was already used for a different message',
    retryable: false,
  },
  'rate-limited': {
    status: 429,
    title: 'Over the rate limit of the tenant or the key; retry after Retry-After seconds',
    retryable: true,
  },
  'model-not-found': {
    status: 404,
    title: 'No such model: GET /v1/models lists the models this engine serves',
    retryable: false,
  },
  'reply-timed-out': {
    status: 504,
    title: 'The message was recorded but no reply came in time; retry with the same Idempotency-Key',
    retryable: true,
  },
  'content-blocked': {
    status: 422,
    title: "The message contains words the tenant's list blocks",
    retryable: false,
  },
  'webhook-unauthorized': {
    status: 401,
    title: 'The webhook delivery is not signed by the platform (token, signature or secret mismatch)',
    retryable: false,
  },
  'webhook-stale': {
    status: 400,
    title: 'The webhook delivery is too old (or from the future); it may be a replay',
    retryable: false,
  },
  'stream-corrupted': { status: 500, title: 'The event stream is inconsistent', retryable: false },
  'dependency-unavailable': { status: 503, title: 'A dependency is unavailable', retryable: true },
  internal: { status: 500, title: 'Internal error', retryable: true },
} as const satisfies Record<string, { status: number; title: string; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOG[code].title,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_CATALOG[this.code].retryable;
  }
}
