import WebSocket, { type RawData } from 'ws';
import { z } from 'zod';
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ConversationEvent,
  type ConversationEventType,
  type ConversationView,
  type EventOfType,
  type ServerFrame,
  type ServerFrameOfType,
  type StateFrames,
} from '@contracts';
import { ContractViolationError, GatewayError } from './gateway-error';

/** Epoch milliseconds with sub-millisecond resolution, comparable with events' `occurredAt`. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

export interface ReceivedFrame {
  frame: ServerFrame;
  /** `wallClock()` when the frame arrived, taken before parsing it. */
  receivedAt: number;
}

export type TurnEnd =
  EventOfType<'conversation.reply-completed.v2'> | EventOfType<'conversation.reply-failed.v1'>;

export interface WaitOptions {
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Nothing matching arrived in time (the socket is still open); the message says what did arrive. */
export class FrameTimeoutError extends Error {
  constructor(timeoutMs: number, received: readonly ReceivedFrame[]) {
    super(
      `no matching frame within ${timeoutMs} ms (${received.length} frames so far: ${describeFrames(received)})`,
    );
    this.name = 'FrameTimeoutError';
  }
}

/** The frames' kinds in order, events by type and sequence, runs of one kind counted ("state x3"). */
export function describeFrames(received: readonly ReceivedFrame[]): string {
  const runs: { label: string; count: number }[] = [];
  for (const { frame } of received) {
    const label = frameLabel(frame);
    const last = runs.at(-1);
    if (last?.label === label) last.count += 1;
    else runs.push({ label, count: 1 });
  }
  if (runs.length === 0) return 'none';
  return runs.map(({ label, count }) => (count > 1 ? `${label} x${count}` : label)).join(', ');
}

function frameLabel(frame: ServerFrame): string {
  switch (frame.type) {
    case 'event':
      // Chunks are labelled without their sequence so a streamed reply reads as one run.
      return frame.event.type === 'conversation.reply-chunk-generated.v1'
        ? 'reply-chunk-generated.v1'
        : `${frame.event.type.replace(/^conversation\./, '')}#${frame.event.sequence}`;
    case 'error':
      return `error(${frame.code})`;
    case 'subscribed':
    case 'state':
    case 'state-compact':
    case 'pong':
      return frame.type;
    default: {
      const unexpected: never = frame;
      return String(unexpected);
    }
  }
}

/**
 * A conversation's transcript from its frames: the last `subscribed` or `state` frame's, followed by the
 * entries each later `state-compact` frame added. Null when no frame carried a transcript yet.
 */
export function transcriptFrom(
  received: readonly ReceivedFrame[],
  conversationId: string,
): ConversationView['transcript'] | null {
  let transcript: ConversationView['transcript'] | null = null;
  for (const { frame } of received) {
    if (
      (frame.type === 'subscribed' || frame.type === 'state') &&
      frame.state.conversationId === conversationId
    ) {
      transcript = [...frame.state.transcript];
    } else if (frame.type === 'state-compact' && frame.state.conversationId === conversationId) {
      transcript?.push(...frame.transcriptAdded);
    }
  }
  return transcript;
}

/** The turn ended in `conversation.reply-failed.v1`. */
export class ReplyFailedError extends Error {
  constructor(readonly event: EventOfType<'conversation.reply-failed.v1'>) {
    super(`reply failed: ${event.data.code}: ${event.data.message}`);
    this.name = 'ReplyFailedError';
  }
}

/**
 * One `/v1/ws` connection. Every frame is validated against `ServerFrameSchema` and kept in order with
 * its arrival time, so callers can wait for what they expect however frames interleave with their own
 * REST calls. A frame outside the contract ends the session: waiters reject with the reason.
 */
export class GatewaySocket {
  readonly received: ReceivedFrame[] = [];
  /** UTF-8 bytes of the text frames received so far (what the socket cost the network). */
  bytesReceived = 0;
  /** Why the session ended (closed, errored, or an invalid frame); null while open. */
  endedWith: Error | null = null;
  private readonly listeners = new Set<(received: ReceivedFrame) => void>();
  private readonly endListeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', (code, reason) =>
      this.end(new Error(`the WebSocket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`)),
    );
    ws.on('error', (error) => this.end(error));
  }

  /** Connects; a refused upgrade (401 without a valid key) rejects with a GatewayError. */
  static open(
    url: string,
    apiKey: string | null,
    { timeoutMs = 30_000 }: WaitOptions = {},
  ): Promise<GatewaySocket> {
    const ws = new WebSocket(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    const socket = new GatewaySocket(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`WebSocket ${url} did not open within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      ws.once('unexpected-response', (_request, response) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        ws.terminate();
        reject(GatewayError.fromResponse(status, response.statusMessage ?? '', `WebSocket ${url}`));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get frames(): ServerFrame[] {
    return this.received.map((received) => received.frame);
  }

  /** The events received so far, of one conversation or all. */
  events(conversationId?: string): ConversationEvent[] {
    const events: ConversationEvent[] = [];
    for (const { frame } of this.received) {
      if (frame.type !== 'event') continue;
      if (conversationId === undefined || frame.event.conversationId === conversationId)
        events.push(frame.event);
    }
    return events;
  }

  /**
   * The conversation's transcript as the frames received so far tell it (see `transcriptFrom`); null
   * before the subscription is confirmed.
   */
  transcript(conversationId: string): ConversationView['transcript'] | null {
    return transcriptFrom(this.received, conversationId);
  }

  /** The events of one type received so far (of one conversation, when given). */
  eventsOfType<T extends ConversationEventType>(type: T, conversationId?: string): EventOfType<T>[] {
    return this.events(conversationId).filter((event): event is EventOfType<T> => event.type === type);
  }

  /** Calls `listener` for every frame from now on; returns the function that stops it. */
  onFrame(listener: (received: ReceivedFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends a frame after checking it against the contract (use `sendRaw` to send a broken one on purpose). */
  send(frame: ClientFrame): void {
    this.sendRaw(JSON.stringify(ClientFrameSchema.parse(frame)));
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  /**
   * Subscribes and resolves with the conversation's state once the gateway confirms; rejects with a
   * GatewayError (e.g. `conversation-not-found`) when it refuses. `afterSequence` replays stored events
   * after that sequence (0: the whole stream) before live ones. `stateFrames: 'compact'` asks for
   * `state-compact` frames instead of `state` ones (see `transcript()`).
   */
  async subscribe(
    conversationId: string,
    {
      afterSequence,
      stateFrames,
      timeoutMs,
    }: { afterSequence?: number; stateFrames?: StateFrames } & WaitOptions = {},
  ): Promise<ConversationView> {
    const from = this.received.length;
    this.send({
      type: 'subscribe',
      conversationId,
      ...(afterSequence === undefined ? {} : { afterSequence }),
      ...(stateFrames === undefined ? {} : { stateFrames }),
    });
    const answer = await this.waitFor(
      (frame): frame is ServerFrameOfType<'subscribed'> | ServerFrameOfType<'error'> =>
        (frame.type === 'subscribed' || frame.type === 'error') && frame.conversationId === conversationId,
      { timeoutMs, from },
    );
    if (answer.type === 'error') throw GatewayError.fromFrame(answer, `subscribe ${conversationId}`);
    return answer.state;
  }

  /** The first frame (from index `from`, default all received) that matches. */
  waitFor<T extends ServerFrame>(
    predicate: (frame: ServerFrame) => frame is T,
    options?: WaitOptions & { from?: number },
  ): Promise<T>;
  waitFor(
    predicate: (frame: ServerFrame) => boolean,
    options?: WaitOptions & { from?: number },
  ): Promise<ServerFrame>;
  waitFor(
    predicate: (frame: ServerFrame) => boolean,
    { timeoutMs, from = 0 }: WaitOptions & { from?: number } = {},
  ): Promise<ServerFrame> {
    let next = from;
    return this.until(
      () => {
        for (; next < this.received.length; next++) {
          const frame = (this.received[next] as ReceivedFrame).frame;
          if (predicate(frame)) return frame;
        }
        return undefined;
      },
      { timeoutMs },
    );
  }

  /** The first event of `type` (of a conversation, when given) that matches `predicate`. */
  waitForEvent<T extends ConversationEventType>(
    type: T,
    predicate: (event: EventOfType<T>) => boolean = () => true,
    options: WaitOptions & { conversationId?: string } = {},
  ): Promise<EventOfType<T>> {
    return this.waitFor(
      (frame): frame is ServerFrameOfType<'event'> =>
        frame.type === 'event' &&
        frame.event.type === type &&
        (options.conversationId === undefined || frame.event.conversationId === options.conversationId) &&
        predicate(frame.event as EventOfType<T>),
      options,
    ).then((frame) => frame.event as EventOfType<T>);
  }

  /** The `reply-requested` event of the turn that answers `messageId`, once it arrived. */
  turnFor(messageId: string): EventOfType<'conversation.reply-requested.v1'> | undefined {
    for (const event of this.events()) {
      if (event.type === 'conversation.reply-requested.v1' && event.data.inReplyTo.includes(messageId))
        return event;
    }
    return undefined;
  }

  /** The completion or failure of the turn that answers `messageId`, once it arrived. */
  turnEndFor(messageId: string): TurnEnd | undefined {
    const turnId = this.turnFor(messageId)?.data.turnId;
    if (turnId === undefined) return undefined;
    for (const event of this.events()) {
      if (
        (event.type === 'conversation.reply-completed.v2' || event.type === 'conversation.reply-failed.v1') &&
        event.data.turnId === turnId
      )
        return event;
    }
    return undefined;
  }

  /** Waits for the end of the turn answering `messageId`: its completion or its failure. */
  waitForTurnEnd(messageId: string, options: WaitOptions = {}): Promise<TurnEnd> {
    return this.until(() => this.turnEndFor(messageId), options);
  }

  /** Waits for the completed reply to `messageId`; a failed turn rejects with ReplyFailedError. */
  async waitForReply(
    messageId: string,
    options: WaitOptions = {},
  ): Promise<EventOfType<'conversation.reply-completed.v2'>> {
    const end = await this.waitForTurnEnd(messageId, options);
    if (end.type === 'conversation.reply-failed.v1') throw new ReplyFailedError(end);
    return end;
  }

  /**
   * Resolves with the first value of `check` other than undefined, evaluated now and after every frame;
   * rejects with FrameTimeoutError after `timeoutMs`, or with `endedWith` when the session ends first.
   */
  until<T>(check: () => T | undefined, { timeoutMs = DEFAULT_TIMEOUT_MS }: WaitOptions = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        stopFrames();
        this.endListeners.delete(attempt);
        outcome();
      };
      const attempt = (): void => {
        const value = check();
        if (value !== undefined) finish(() => resolve(value));
        else if (this.endedWith) {
          const ended = this.endedWith;
          finish(() => reject(ended));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new FrameTimeoutError(timeoutMs, this.received))),
        timeoutMs,
      );
      const stopFrames = this.onFrame(attempt);
      this.endListeners.add(attempt);
      attempt();
    });
  }

  close(): void {
    this.ws.close(1000);
  }

  private receive(data: RawData, isBinary: boolean): void {
    const receivedAt = wallClock();
    if (isBinary) return this.violation('a binary frame');
    const text = textOf(data);
    this.bytesReceived += Buffer.byteLength(text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.violation('a frame that is not JSON');
    }
    const parsed = ServerFrameSchema.safeParse(json);
    if (!parsed.success) return this.violation(z.prettifyError(parsed.error));
    const received = { frame: parsed.data, receivedAt };
    this.received.push(received);
    for (const listener of [...this.listeners]) listener(received);
  }

  private violation(detail: string): void {
    this.end(new ContractViolationError('WebSocket frame', detail));
    this.ws.close(1002, 'frame outside the contract');
  }

  private end(reason: Error): void {
    this.endedWith ??= reason;
    for (const wake of [...this.endListeners]) wake();
  }
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}
