import { Writable } from 'node:stream';
import { createLogger, redactUrl } from './logger';

const KEY = 'cek_s3cretKeyValue-123';

/** A logger writing into a string, as it writes to stdout in a service. */
function capturedLogger() {
  let output = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString('utf8');
      done();
    },
  });
  return { logger: createLogger('test', 'info', destination), output: () => output };
}

describe('redactUrl', () => {
  it.each([
    [`/v1/ws?api_key=${KEY}`, '/v1/ws?api_key=[redacted]'],
    [`/v1/ws?x=1&api_key=${KEY}&y=2`, '/v1/ws?x=1&api_key=[redacted]&y=2'],
    [`/v1/ws?API_KEY=${KEY}#frag`, '/v1/ws?API_KEY=[redacted]#frag'],
    [`/v1/ws?access_token=${KEY}`, '/v1/ws?access_token=[redacted]'],
    ['/v1/conversations?after=3', '/v1/conversations?after=3'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('createLogger', () => {
  it('keeps a key out of request URLs, parsed queries and headers, as pino-http logs them', () => {
    const { logger, output } = capturedLogger();

    logger.info(
      {
        req: {
          method: 'GET',
          url: `/v1/conversations?api_key=${KEY}`,
          query: { api_key: KEY },
          headers: { authorization: `Bearer ${KEY}` },
        },
      },
      'request completed',
    );
    logger.error({ url: `/v1/ws?api_key=${KEY}`, errorId: 'e1' }, 'request failed');
    logger.info({ apiKey: KEY }, 'issued');

    expect(output()).not.toContain(KEY);
    const [request, failure] = output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
    expect(request?.req?.url).toBe('/v1/conversations?api_key=[redacted]');
    expect(failure?.url).toBe('/v1/ws?api_key=[redacted]');
  });

  it('keeps a child logger (pino-http makes one) redacting too', () => {
    const { logger, output } = capturedLogger();

    logger
      .child({}, { serializers: { req: (req: unknown) => req } })
      .info({ req: { url: `/x?api_key=${KEY}` } });

    expect(output()).toContain('api_key=[redacted]');
    expect(output()).not.toContain(KEY);
  });
});
