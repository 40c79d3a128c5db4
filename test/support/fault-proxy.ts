import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does to the next requests. `pass` forwards untouched; the others imitate the ways a
 * model server fails: refusing or resetting the connection, answering 500, never answering, a stream
 * that stops (stalls, or is reset) after `afterBytes` of its body, and a slow first byte.
 */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'reset' }
  | { kind: 'http-500' }
  | { kind: 'timeout' }
  | { kind: 'stall-midway'; afterBytes: number }
  | { kind: 'reset-midway'; afterBytes: number }
  | { kind: 'slow-first-byte'; delayMs: number };

/**
 * A loopback HTTP proxy that injects faults between a service and a real server (llama-server), so
 * outage tests never touch the shared server itself. Streams are forwarded as they arrive. `fault()`
 * applies to requests that arrive from then on; held connections are released by `close()`.
 */
export class FaultProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private current: Fault = { kind: 'pass' };
  /** Requests seen, by the fault they met. */
  readonly seen: Fault['kind'][] = [];
  port = 0;

  constructor(private readonly target: URL) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
    this.port = address.port;
    return this.port;
  }

  /** The target URL (e.g. http://127.0.0.1:18080/v1) rewritten to go through this proxy. */
  via(url: string): string {
    const rewritten = new URL(url);
    rewritten.hostname = '127.0.0.1';
    rewritten.port = String(this.port);
    return rewritten.toString().replace(/\/$/, '');
  }

  fault(fault: Fault): void {
    this.current = fault;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const fault = this.current;
    this.seen.push(fault.kind);
    switch (fault.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'http-500':
        req.resume();
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 500, message: 'injected fault', type: 'server_error' } }));
        return;
      case 'timeout':
        req.resume(); // hold the connection, answer nothing
        return;
      case 'slow-first-byte':
        setTimeout(() => this.forward(req, res, null), fault.delayMs);
        return;
      case 'pass':
      case 'stall-midway':
      case 'reset-midway':
        this.forward(req, res, fault.kind === 'pass' ? null : fault);
        return;
      default: {
        const unexpected: never = fault;
        throw new Error(`unknown fault ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    midway: Extract<Fault, { kind: 'stall-midway' | 'reset-midway' }> | null,
  ): void {
    const upstream = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (midway === null || sent + chunk.length <= midway.afterBytes) {
            sent += chunk.length;
            res.write(chunk);
            return;
          }
          const rest = chunk.subarray(0, Math.max(0, midway.afterBytes - sent));
          sent = midway.afterBytes;
          // The upstream generation stops too, as it would if the server itself hung or died.
          answer.destroy();
          upstream.destroy();
          // reset-midway: the connection dies once the bytes so far have reached the socket (destroying it
          // at once would also drop writes still queued in Node, so the client might see nothing at all).
          // stall-midway: the client keeps waiting on an open connection that sends nothing more.
          res.write(rest, () => {
            if (midway.kind === 'reset-midway') res.socket?.destroy();
          });
        });
        answer.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  }
}
