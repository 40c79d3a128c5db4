import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A call the engine made to a platform's API. */
export interface PlatformCall {
  platform: 'feishu' | 'telegram';
  path: string;
  body: Record<string, unknown>;
}

/**
 * A local stand-in of the Feishu Open API (tenant_access_token, im/v1/messages) and the Telegram Bot
 * API (sendMessage), for the real SDKs to talk to: it answers as the platforms do and records every
 * message sent. Feishu dedupes on the message `uuid` as the real API does. `failNext` makes the next
 * sends answer 500, to exercise retries.
 */
export class ImPlatformStandIn {
  readonly calls: PlatformCall[] = [];
  private failures = 0;
  private readonly feishuByUuid = new Map<string, string>();
  private readonly server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const body = (text.length > 0 ? JSON.parse(text) : {}) as Record<string, unknown>;
      const path = req.url ?? '';
      const answer = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (path.startsWith('/open-apis/auth/v3/tenant_access_token/internal')) {
        return answer(200, { code: 0, msg: 'ok', tenant_access_token: 't-stand-in', expire: 7200 });
      }
      const isSend = path.startsWith('/open-apis/im/v1/messages') || /^\/bot[^/]+\/sendMessage/.test(path);
      if (isSend && this.failures > 0) {
        this.failures--;
        return answer(500, {
          code: 500,
          msg: 'stand-in failure',
          ok: false,
          error_code: 500,
          description: 'stand-in',
        });
      }
      if (path.startsWith('/open-apis/im/v1/messages')) {
        const uuid = typeof body.uuid === 'string' ? body.uuid : '';
        const known = uuid ? this.feishuByUuid.get(uuid) : undefined;
        if (known) return answer(200, { code: 0, msg: 'success', data: { message_id: known } });
        const messageId = `om_${this.calls.length + 1}`;
        if (uuid) this.feishuByUuid.set(uuid, messageId);
        this.calls.push({ platform: 'feishu', path, body });
        return answer(200, { code: 0, msg: 'success', data: { message_id: messageId } });
      }
      if (/^\/bot[^/]+\/sendMessage/.test(path)) {
        this.calls.push({ platform: 'telegram', path, body });
        return answer(200, {
          ok: true,
          result: {
            message_id: this.calls.length,
            date: Math.floor(Date.now() / 1000),
            chat: { id: body.chat_id, type: 'private' },
            text: body.text,
          },
        });
      }
      return answer(404, { code: 404, msg: 'not found' });
    });
  });

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  failNext(count: number): void {
    this.failures = count;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Encrypts a payload as Feishu does with an Encrypt Key: base64(iv ‖ AES-256-CBC(sha256(key), json)). */
export function feishuEncrypt(encryptKey: string, payload: unknown): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]).toString(
    'base64',
  );
}

/** Feishu's signature of a push: sha256_hex(timestamp + nonce + encryptKey + body), as its docs define it. */
export function feishuSign(
  encryptKey: string,
  timestamp: string,
  nonce: string,
  body: Buffer | string,
): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey)
    .update(body)
    .digest('hex');
}

/** An `im.message.receive_v1` event (schema 2.0) as Feishu pushes it. */
export function feishuMessageEvent(options: {
  eventId: string;
  token: string;
  chatId: string;
  text: string;
  createTimeMs?: number;
}): Record<string, unknown> {
  const createTime = String(options.createTimeMs ?? Date.now());
  return {
    schema: '2.0',
    header: {
      event_id: options.eventId,
      event_type: 'im.message.receive_v1',
      create_time: createTime,
      token: options.token,
      app_id: 'cli_stand_in',
      tenant_key: 'stand-in',
    },
    event: {
      sender: { sender_id: { open_id: 'ou_customer' }, sender_type: 'user', tenant_key: 'stand-in' },
      message: {
        message_id: `om_in_${options.eventId}`,
        create_time: createTime,
        chat_id: options.chatId,
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: options.text }),
      },
    },
  };
}

/** A Telegram update with a text message. */
export function telegramUpdate(options: { updateId: number; chatId: number; text: string; dateMs?: number }) {
  return {
    update_id: options.updateId,
    message: {
      message_id: options.updateId,
      date: Math.floor((options.dateMs ?? Date.now()) / 1000),
      chat: { id: options.chatId, type: 'private' },
      from: { id: options.chatId, is_bot: false, first_name: 'Customer' },
      text: options.text,
    },
  };
}
