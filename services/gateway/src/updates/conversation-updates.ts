import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import {
  ClientFrameSchema,
  type ClientFrame,
  type ConversationEvent,
  type Role,
  type ServerFrame,
  type StateFrames,
} from '@contracts';
import { evolve, fold, initialState, toView, type ConversationState } from '@libs/conversation';
import { ConversationStreams, EventStore, streamRef, type Tenant } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { API_KEY_CACHE_TTL_MS, PrincipalResolver, bearerToken } from '../auth';
import { conversationKey } from '../conversations/conversation-ref';
import { stateFrame } from './state-frames';

export const WS_PATH = '/v1/ws';

/** The roles that may subscribe to conversations on the WebSocket (as on the REST routes that read them). */
export const SOCKET_ROLES: readonly Role[] = ['frontend', 'agent', 'admin'];

/** Close code for a socket whose API key was revoked (4000-4999: application codes; 401's meaning). */
export const REVOKED_KEY_CLOSE_CODE = 4401;

interface Subscription {
  ref: { tenantId: string; conversationId: string };
  /** Highest sequence sent; older or repeated events (redeliveries) are not sent again. */
  lastSequence: number;
  /** The conversation as of the events applied so far, evolved event by event (no re-reading). */
  state: ConversationState;
  /** Live events that arrive while stored ones are being replayed wait here. */
  backlog: ConversationEvent[] | null;
  /** Whole views after each change, or compact ones with the transcript's new entries. */
  stateFrames: StateFrames;
  /** Transcript entries sent so far (in `subscribed` and the state frames after it). */
  transcriptSent: number;
}

/** The conversations this gateway's sockets subscribe to, by tenant: Kafka messages of others are passed by. */
class WatchedConversations {
  private readonly watchers = new Map<string, Set<Client>>();

  add(client: Client, conversationId: string): void {
    const key = conversationKey(client.tenant.id, conversationId);
    const clients = this.watchers.get(key) ?? new Set<Client>();
    clients.add(client);
    this.watchers.set(key, clients);
  }

  remove(client: Client, conversationId: string): void {
    const key = conversationKey(client.tenant.id, conversationId);
    const clients = this.watchers.get(key);
    clients?.delete(client);
    if (clients?.size === 0) this.watchers.delete(key);
  }

  has(tenantId: string, conversationId: string): boolean {
    return this.watchers.has(conversationKey(tenantId, conversationId));
  }

  /** The sockets subscribed to the conversation, as a copy (delivering may change them). */
  clientsOf(tenantId: string, conversationId: string): Client[] {
    return [...(this.watchers.get(conversationKey(tenantId, conversationId)) ?? [])];
  }
}

type SubscribeFrame = Extract<ClientFrame, { type: 'subscribe' }>;

interface Client {
  socket: WebSocket;
  /** Kept to re-check it: a socket outlives the key's revocation otherwise. */
  apiKey: string;
  tenant: Tenant;
  subscriptions: Map<string, Subscription>;
  alive: boolean;
}

/**
 * The `/v1/ws` WebSocket: clients subscribe per conversation and receive its events (streamed reply
 * chunks among them) and its state after each change. Tenancy is checked on subscribe and on send.
 */
@Injectable()
export class ConversationUpdates implements OnApplicationShutdown {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<Client>();
  private readonly watched = new WatchedConversations();
  private heartbeat: NodeJS.Timeout | null = null;
  private keyCheck: NodeJS.Timeout | null = null;
  /** A slow database must not stack up re-checks. */
  private checkingKeys = false;

  constructor(
    @Inject(PrincipalResolver) private readonly tenants: PrincipalResolver,
    @Inject(API_KEY_CACHE_TTL_MS) private readonly keyCacheTtlMs: number,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(req, socket, head);
    });
    this.heartbeat = setInterval(() => this.sweep(), 30_000);
    // REST sees a revocation once the cached key expires; open sockets are re-checked as often.
    this.keyCheck = setInterval(() => void this.recheckKeys(), Math.max(this.keyCacheTtlMs, 1_000));
  }

  /** True when a socket here subscribes to the conversation (its events are wanted from Kafka). */
  watches(tenantId: string, conversationId: string): boolean {
    return this.watched.has(tenantId, conversationId);
  }

  /** Called for every event consumed from Kafka. */
  async dispatch(event: ConversationEvent): Promise<void> {
    // Looked up by conversation, not by scanning every open socket.
    for (const client of this.watched.clientsOf(event.tenantId, event.conversationId)) {
      const subscription = client.subscriptions.get(event.conversationId);
      if (!subscription) continue;
      if (subscription.backlog) {
        subscription.backlog.push(event);
        continue;
      }
      await this.deliver(client, subscription, event);
    }
  }

  onApplicationShutdown(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.keyCheck) clearInterval(this.keyCheck);
    for (const client of this.clients) client.socket.close(1001, 'server shutting down');
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    try {
      const key = bearerToken(req.headers.authorization) ?? url.searchParams.get('api_key');
      const principal = await this.tenants.resolve(key);
      if (!key || !principal) return reject(socket, 401, 'Unauthorized');
      // Sockets carry customer text unredacted: the roles that hold conversations, not analysts.
      if (!SOCKET_ROLES.includes(principal.role)) return reject(socket, 403, 'Forbidden');
      const { tenant } = principal;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, key, tenant));
    } catch (error) {
      this.logger.error({ err: error }, 'websocket upgrade failed');
      reject(socket, 503, 'Service Unavailable');
    }
  }

  private connected(socket: WebSocket, apiKey: string, tenant: Tenant): void {
    const client: Client = { socket, apiKey, tenant, subscriptions: new Map(), alive: true };
    this.clients.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => {
      this.clients.delete(client);
      for (const conversationId of client.subscriptions.keys()) this.watched.remove(client, conversationId);
    });
    socket.on('error', (error) => this.logger.warn({ err: error }, 'websocket error'));
    socket.on('message', (data: RawData, isBinary: boolean) => {
      this.received(client, data, isBinary).catch((error: unknown) => {
        this.logger.error({ err: error }, 'websocket frame failed');
        send(client.socket, { type: 'error', code: 'internal', detail: 'the frame could not be handled' });
      });
    });
  }

  private async received(client: Client, data: RawData, isBinary: boolean): Promise<void> {
    let json: unknown;
    try {
      json = isBinary ? undefined : JSON.parse(rawText(data));
    } catch {
      json = undefined;
    }
    const frame = ClientFrameSchema.safeParse(json);
    if (!frame.success) {
      const detail = json === undefined ? 'frames are JSON text' : z.prettifyError(frame.error);
      return send(client.socket, { type: 'error', code: 'validation-failed', detail });
    }
    switch (frame.data.type) {
      case 'ping':
        return send(client.socket, { type: 'pong' });
      case 'unsubscribe':
        return this.unsubscribe(client, frame.data.conversationId);
      case 'subscribe':
        return this.subscribe(client, frame.data);
      default: {
        const unexpected: never = frame.data;
        throw new Error(`unhandled frame ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private async subscribe(
    client: Client,
    { conversationId, afterSequence, stateFrames = 'full' }: SubscribeFrame,
  ): Promise<void> {
    const ref = { tenantId: client.tenant.id, conversationId };
    // Registered before reading, so an event published meanwhile waits in the backlog, not lost.
    const subscription: Subscription = {
      ref,
      lastSequence: 0,
      state: initialState(),
      backlog: [],
      stateFrames,
      transcriptSent: 0,
    };
    client.subscriptions.set(conversationId, subscription);
    this.watched.add(client, conversationId);
    // One read serves both the state sent on subscribe and the events replayed after `afterSequence`.
    const events = await this.store.read('conversation', streamRef(ref));
    const state = fold(events);
    if (state.version === 0) {
      this.unsubscribe(client, conversationId);
      return send(client.socket, {
        type: 'error',
        code: 'conversation-not-found',
        detail: 'No such conversation for this tenant',
        conversationId,
      });
    }
    if (afterSequence !== undefined && afterSequence > state.version) {
      // Accepting it would skip every event up to afterSequence, live ones included: silence.
      this.unsubscribe(client, conversationId);
      return send(client.socket, {
        type: 'error',
        code: 'validation-failed',
        detail: `afterSequence ${afterSequence} is past the end of the stream (version ${state.version})`,
        conversationId,
      });
    }
    subscription.state = state;
    subscription.lastSequence = afterSequence ?? state.version;
    const view = toView(state);
    subscription.transcriptSent = view.transcript.length;
    send(client.socket, { type: 'subscribed', conversationId, state: view });
    // Sequences start at 1 without gaps, so the events after `afterSequence` start at that index.
    const stored = afterSequence === undefined ? [] : events.slice(afterSequence);
    for (const event of stored) await this.deliver(client, subscription, event);
    while (subscription.backlog && subscription.backlog.length > 0) {
      await this.deliver(client, subscription, subscription.backlog.shift() as ConversationEvent);
    }
    subscription.backlog = null;
  }

  private unsubscribe(client: Client, conversationId: string): void {
    client.subscriptions.delete(conversationId);
    this.watched.remove(client, conversationId);
  }

  /**
   * Sends an event once, in order, then the state it leads to as the subscription asked for it (not
   * after chunks, which change nothing).
   */
  private async deliver(client: Client, subscription: Subscription, event: ConversationEvent): Promise<void> {
    if (event.sequence <= subscription.lastSequence) return;
    subscription.lastSequence = event.sequence;
    send(client.socket, { type: 'event', event });
    if (event.sequence <= subscription.state.version) return; // already in the state sent on subscribe
    if (event.sequence === subscription.state.version + 1) {
      subscription.state = evolve(subscription.state, event);
    } else {
      // This gateway missed events (it joined Kafka late): the store has them.
      subscription.state = await this.streams.load(subscription.ref);
    }
    if (event.type !== 'conversation.reply-chunk-generated.v1') {
      const { frame, transcriptSent } = stateFrame(
        subscription.stateFrames,
        subscription.state,
        subscription.transcriptSent,
      );
      subscription.transcriptSent = transcriptSent;
      send(client.socket, frame);
    }
  }

  /** Looks every open socket's key up afresh; a revoked one closes its sockets. */
  private async recheckKeys(): Promise<void> {
    if (this.checkingKeys) return;
    this.checkingKeys = true;
    try {
      await this.closeRevoked(new Set([...this.clients].map((client) => client.apiKey)));
    } finally {
      this.checkingKeys = false;
    }
  }

  private async closeRevoked(keys: Set<string>): Promise<void> {
    for (const key of keys) {
      let tenant: Tenant | null;
      try {
        tenant = (await this.tenants.refresh(key))?.tenant ?? null;
      } catch (error) {
        // An outage is no revocation: the sockets stay, the next round checks again.
        this.logger.warn({ err: error }, 'could not re-check the API keys of open sockets');
        return;
      }
      if (tenant) continue;
      for (const client of this.clients) {
        if (client.apiKey === key) client.socket.close(REVOKED_KEY_CLOSE_CODE, 'API key revoked');
      }
    }
  }

  private sweep(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}

function send(socket: WebSocket, frame: ServerFrame): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
