import WebSocket from 'ws';

export interface HttpResult<T = unknown> {
  status: number;
  contentType: string;
  body: T;
}

/** A frontend's view of the gateway: REST calls with a tenant key, and the WebSocket. */
export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string | null,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the test asserting on it will say so
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: parsed as T,
    };
  }

  async openConversation(body: unknown = { channel: 'web', locale: 'en-US' }): Promise<string> {
    const result = await this.request<{ conversationId: string }>('POST', '/v1/conversations', {
      json: body,
    });
    if (result.status !== 201)
      throw new Error(`open failed: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body.conversationId;
  }

  async sendMessage(conversationId: string, text: string, clientMessageId?: string): Promise<string> {
    const result = await this.request<{ messageId: string }>(
      'POST',
      `/v1/conversations/${conversationId}/messages`,
      {
        json: clientMessageId ? { text, clientMessageId } : { text },
      },
    );
    if (result.status !== 202)
      throw new Error(`send failed: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body.messageId;
  }

  async allEvents(conversationId: string, pageSize = 100): Promise<Record<string, unknown>[]> {
    const events: Record<string, unknown>[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: HttpResult<{ events: Record<string, unknown>[]; nextAfter: number | null }> =
        await this.request(
          'GET',
          `/v1/conversations/${conversationId}/events?after=${after}&limit=${pageSize}`,
        );
      if (page.status !== 200) throw new Error(`events failed: ${page.status}`);
      events.push(...page.body.events);
      after = page.body.nextAfter;
    }
    return events;
  }

  async socket(): Promise<FrameRecorder> {
    const ws = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}/v1/ws`, {
      headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new FrameRecorder(ws);
  }
}

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface EventFrame extends Frame {
  type: 'event';
  event: {
    type: string;
    sequence: number;
    eventId: string;
    conversationId: string;
    data: Record<string, unknown>;
  };
}

/** Records every frame a socket receives and waits for the ones a test expects. */
export class FrameRecorder {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')) as Frame);
      for (const wake of this.waiters) wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  events(conversationId?: string): EventFrame['event'][] {
    return this.frames
      .filter((frame): frame is EventFrame => frame.type === 'event')
      .map((frame) => frame.event)
      .filter((event) => conversationId === undefined || event.conversationId === conversationId);
  }

  async waitFor<T extends Frame>(predicate: (frame: Frame) => boolean, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found as T;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`no matching frame within ${timeoutMs} ms; got ${this.frames.length} frames`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  /** Waits for the completion (or failure) of the turn that answers `messageId`. */
  async waitForReply(messageId: string, timeoutMs = 120_000): Promise<EventFrame['event']> {
    const requested = await this.waitFor<EventFrame>(
      (frame) =>
        frame.type === 'event' &&
        (frame as EventFrame).event.type === 'conversation.reply-requested.v1' &&
        ((frame as EventFrame).event.data.inReplyTo as string[]).includes(messageId),
      timeoutMs,
    );
    const turnId = requested.event.data.turnId;
    const done = await this.waitFor<EventFrame>(
      (frame) =>
        frame.type === 'event' &&
        ['conversation.reply-completed.v1', 'conversation.reply-failed.v1'].includes(
          (frame as EventFrame).event.type,
        ) &&
        (frame as EventFrame).event.data.turnId === turnId,
      timeoutMs,
    );
    return done.event;
  }

  close(): void {
    this.ws.close();
  }
}
