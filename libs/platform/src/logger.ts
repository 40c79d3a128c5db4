import pino, { type DestinationStream, type Logger } from 'pino';

export const PINO_LOGGER = Symbol('PINO_LOGGER');

/** Query parameters that carry credentials (browsers' WebSocket clients send the key as `?api_key=`). */
const SECRET_QUERY_PARAMS = /([?&](?:api_key|apikey|access_token|token)=)[^&#\s]*/gi;

/** A URL with the values of its credential parameters replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[redacted]');
}

/**
 * Where a request's URL or query can appear in a log entry: pino-http's `req` (url and parsed query),
 * and the `url` our own entries (failed requests) carry.
 */
const URL_PATHS = ['req.url', 'url'];
const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.api_key',
  'req.query.apikey',
  'req.query.access_token',
  'req.query.token',
  'apiKey',
];

/** JSON logs on stdout, one line per entry, with the service name on each; credentials never logged. */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [...URL_PATHS, ...SECRET_PATHS],
      censor: (value: unknown, path: string[]) =>
        URL_PATHS.includes(path.join('.')) && typeof value === 'string' ? redactUrl(value) : '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
