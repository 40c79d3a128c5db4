import { createHash } from 'node:crypto';
import { AESCipher } from '@larksuiteoapi/node-sdk';
import { z } from 'zod';
import { AppError } from '@contracts';
import type { FeishuConnector } from '../channels.config';
import { constantTimeEqual, type WebhookOutcome } from '../inbound-channel-message';

/** The headers Feishu signs a delivery with when the app has an Encrypt Key. */
export interface FeishuSignatureHeaders {
  timestamp?: string;
  nonce?: string;
  signature?: string;
}

const Encrypted = z.object({ encrypt: z.string().min(1) });

const UrlVerification = z.object({
  type: z.literal('url_verification'),
  challenge: z.string().min(1),
  token: z.string(),
});

const EventV2 = z.object({
  schema: z.literal('2.0'),
  header: z.object({
    event_id: z.string().min(1).max(128),
    event_type: z.string(),
    /** ms since the epoch, as a string. */
    create_time: z.string().regex(/^\d{1,16}$/),
    token: z.string(),
  }),
  event: z.unknown(),
});

const MessageReceive = z.object({
  sender: z.object({
    sender_id: z
      .object({ open_id: z.string().min(1) })
      .partial()
      .loose(),
    sender_type: z.string(),
  }),
  message: z.object({
    message_id: z.string().min(1),
    chat_id: z.string().min(1).max(128),
    message_type: z.string(),
    content: z.string(),
  }),
});

/**
 * Verifies and reads one delivery to a Feishu events URL, per Feishu's event subscription rules:
 * - with an Encrypt Key, the body is `{"encrypt": base64(iv ‖ AES-256-CBC(sha256(key), json))}` (the
 *   SDK's AESCipher decrypts it) and the request is signed: `X-Lark-Signature` =
 *   sha256_hex(timestamp + nonce + encryptKey + raw body), checked in constant time, its timestamp
 *   within `maxAgeMs`; only the URL verification handshake may come unsigned;
 * - every payload carries the Verification Token (constant-time compare);
 * - an event whose `create_time` is older than `maxAgeMs` (or ahead of now by as much) is stale.
 * Forged or stale deliveries throw (401 `webhook-unauthorized`, 400 `webhook-stale`); nothing is written.
 */
export function readFeishuDelivery(
  connector: FeishuConnector,
  rawBody: Buffer,
  headers: FeishuSignatureHeaders,
  nowMs: number,
  maxAgeMs: number,
): WebhookOutcome {
  const body = parseJson(rawBody.toString('utf8'));
  let payload = body;
  let signed = false;
  if (connector.encryptKey !== undefined) {
    if (headers.signature !== undefined) {
      verifySignature(connector.encryptKey, rawBody, headers, nowMs, maxAgeMs);
      signed = true;
    }
    const encrypted = Encrypted.safeParse(body);
    if (!encrypted.success) throw unauthorized('the app has an Encrypt Key: deliveries must be encrypted');
    payload = parseJson(decrypt(connector.encryptKey, encrypted.data.encrypt));
  }

  const verification = UrlVerification.safeParse(payload);
  if (verification.success) {
    checkToken(connector, verification.data.token);
    return { kind: 'challenge', challenge: verification.data.challenge };
  }
  if (connector.encryptKey !== undefined && !signed) throw unauthorized('the delivery is not signed');
  const event = EventV2.safeParse(payload);
  if (!event.success) throw new AppError('validation-failed', 'not a Feishu v2 event');
  const { header } = event.data;
  checkToken(connector, header.token);
  checkFresh(Number(header.create_time), nowMs, maxAgeMs);
  if (header.event_type !== 'im.message.receive_v1') {
    return { kind: 'ignored', reason: `event type ${header.event_type}` };
  }
  const received = MessageReceive.safeParse(event.data.event);
  if (!received.success) throw new AppError('validation-failed', 'not an im.message.receive_v1 event');
  const { sender, message } = received.data;
  if (sender.sender_type !== 'user') return { kind: 'ignored', reason: `sender ${sender.sender_type}` };
  if (message.message_type !== 'text')
    return { kind: 'ignored', reason: `message type ${message.message_type}` };
  const text = textOf(message.content);
  if (text === null) return { kind: 'ignored', reason: 'empty text' };
  return {
    kind: 'message',
    message: {
      connectorId: connector.id,
      platform: 'feishu',
      deliveryId: header.event_id,
      chatId: message.chat_id,
      senderId: sender.sender_id.open_id ?? 'unknown',
      text,
      sentAtMs: Number(header.create_time),
    },
  };
}

/** The signature Feishu computes over a push. */
function feishuSignature(encryptKey: string, timestamp: string, nonce: string, rawBody: Buffer): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey)
    .update(rawBody)
    .digest('hex');
}

function verifySignature(
  encryptKey: string,
  rawBody: Buffer,
  { timestamp, nonce, signature }: FeishuSignatureHeaders,
  nowMs: number,
  maxAgeMs: number,
): void {
  if (
    timestamp === undefined ||
    nonce === undefined ||
    signature === undefined ||
    !/^\d{1,12}$/.test(timestamp)
  ) {
    throw unauthorized('signature headers missing');
  }
  if (!constantTimeEqual(signature, feishuSignature(encryptKey, timestamp, nonce, rawBody))) {
    throw unauthorized('signature mismatch');
  }
  checkFresh(Number(timestamp) * 1000, nowMs, maxAgeMs);
}

function decrypt(encryptKey: string, encrypted: string): string {
  try {
    return new AESCipher(encryptKey).decrypt(encrypted);
  } catch {
    throw unauthorized('the delivery does not decrypt with the Encrypt Key');
  }
}

function checkToken(connector: FeishuConnector, token: string): void {
  if (!constantTimeEqual(token, connector.verificationToken))
    throw unauthorized('verification token mismatch');
}

export function checkFresh(sentAtMs: number, nowMs: number, maxAgeMs: number): void {
  if (!Number.isFinite(sentAtMs) || Math.abs(nowMs - sentAtMs) > maxAgeMs) {
    throw new AppError('webhook-stale', undefined, { maxAgeSeconds: Math.round(maxAgeMs / 1000) });
  }
}

/** Text content without the `@_user_1` mention placeholders; null when nothing is left. */
function textOf(content: string): string | null {
  const parsed = z.object({ text: z.string() }).safeParse(parseJsonOrNull(content));
  if (!parsed.success) return null;
  const text = parsed.data.text.replace(/@_user_\d+/g, '').trim();
  return text.length > 0 ? text : null;
}

function parseJson(text: string): unknown {
  const value = parseJsonOrNull(text);
  if (value === null) throw new AppError('invalid-json', 'the delivery is not JSON');
  return value;
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function unauthorized(reason: string): AppError {
  return new AppError('webhook-unauthorized', undefined, { reason });
}
