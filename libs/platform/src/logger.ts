import pino, { type DestinationStream, type Logger } from 'pino';

export const PINO_LOGGER = Symbol('PINO_LOGGER');

/**
 * JSON logs, one line per entry, with the service name on each; on stdout unless told otherwise (a CLI
 * whose stdout is its output logs to stderr).
 */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'apiKey'], censor: '[redacted]' },
    },
    destination,
  );
}

export type { Logger };
