import pino, { type Logger } from 'pino';

export const PINO_LOGGER = Symbol('PINO_LOGGER');

/** JSON logs on stdout, one line per entry, with the service name on each. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'apiKey'], censor: '[redacted]' },
  });
}

export type { Logger };
