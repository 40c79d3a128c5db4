import { AppError } from '@contracts';

/**
 * What a handler failure says about the message:
 * - `outage`: a dependency is unreachable; every message would fail the same way, so the consumer waits
 *   for it to come back and never parks the message (it is not poison);
 * - `rejected`: a non-retryable AppError, the handler's considered "no"; dead-lettered at once;
 * - `transient`: anything else, a bug included; retried within a budget, then the message is parked.
 */
export type FailureKind = 'outage' | 'rejected' | 'transient';

/** PostgreSQL SQLSTATEs of a server that cannot be reached or is going away: class 08, shutdowns, full. */
const OUTAGE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

/** Node's socket and DNS errors. */
const OUTAGE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** kafkajs errors of a broker that cannot be reached (they carry no code, only a class name). */
const OUTAGE_KAFKAJS_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
]);

/** pg and typeorm report a lost or missing connection only in the message. */
const OUTAGE_MESSAGES = [
  /connection terminated/i, // pg: "Connection terminated unexpectedly", "... due to connection timeout"
  /timeout exceeded when trying to connect/i, // pg-pool
  /connection .*not (yet )?established/i, // typeorm: CannotExecuteNotConnectedError, ConnectionIsNotSetError
  /is not queryable/i, // pg: a client whose connection failed
];

/** Causes are followed this deep: wrappers (typeorm's QueryFailedError, kafkajs retries) nest one or two. */
const MAX_DEPTH = 5;

export function failureKind(error: unknown): FailureKind {
  for (const cause of causeChain(error)) {
    if (cause instanceof AppError) {
      if (cause.code === 'dependency-unavailable') return 'outage';
      return cause.retryable ? 'transient' : 'rejected';
    }
    if (isOutage(cause)) return 'outage';
  }
  return 'transient';
}

function isOutage(error: object): boolean {
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && (OUTAGE_SQLSTATE.test(code) || OUTAGE_SYSTEM_CODES.has(code))) return true;
  if (error instanceof Error) {
    if (OUTAGE_KAFKAJS_NAMES.has(error.name)) return true;
    return OUTAGE_MESSAGES.some((pattern) => pattern.test(error.message));
  }
  return false;
}

/** The error, then what it wraps: `cause`, typeorm's `driverError`, an AggregateError's `errors`. */
function causeChain(error: unknown): object[] {
  const chain: object[] = [];
  let layer: unknown[] = [error];
  for (let depth = 0; depth < MAX_DEPTH && layer.length > 0; depth++) {
    const next: unknown[] = [];
    for (const item of layer) {
      if (typeof item !== 'object' || item === null || chain.includes(item)) continue;
      chain.push(item);
      if ('cause' in item) next.push(item.cause);
      if ('driverError' in item) next.push(item.driverError);
      if (item instanceof AggregateError) next.push(...(item.errors as unknown[]));
    }
    layer = next;
  }
  return chain;
}
