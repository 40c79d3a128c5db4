import { AppError } from '@contracts';
import { feishuEncrypt, feishuMessageEvent, feishuSign } from '@test/support';
import type { FeishuConnector } from '../channels.config';
import { readFeishuDelivery } from './feishu-webhook';

const NOW = Date.parse('2026-12-02T02:00:00Z');
const MAX_AGE = 300_000;
const plain: FeishuConnector = {
  kind: 'feishu',
  id: 'lark-1',
  tenantId: 'acme',
  appId: 'cli_1',
  appSecret: 'secret',
  verificationToken: 'v-token',
  apiBaseUrl: 'http://127.0.0.1:1',
};
const encrypted: FeishuConnector = { ...plain, encryptKey: 'encrypt-key-1' };

const event = (overrides: Partial<Parameters<typeof feishuMessageEvent>[0]> = {}) =>
  feishuMessageEvent({
    eventId: 'ev-1',
    token: 'v-token',
    chatId: 'oc_chat',
    text: '你好',
    createTimeMs: NOW,
    ...overrides,
  });

function signed(
  connector: FeishuConnector,
  payload: unknown,
  timestampS = NOW / 1000,
  key = connector.encryptKey!,
) {
  const raw = Buffer.from(JSON.stringify({ encrypt: feishuEncrypt(key, payload) }));
  const timestamp = String(timestampS);
  const nonce = 'nonce-1';
  return { raw, headers: { timestamp, nonce, signature: feishuSign(key, timestamp, nonce, raw) } };
}

function refusal(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return null;
}

describe('Feishu deliveries', () => {
  it('given a plain event with the verification token, then it reads as the channel-neutral message', () => {
    const outcome = readFeishuDelivery(plain, Buffer.from(JSON.stringify(event())), {}, NOW, MAX_AGE);

    expect(outcome).toEqual({
      kind: 'message',
      message: {
        connectorId: 'lark-1',
        platform: 'feishu',
        deliveryId: 'ev-1',
        chatId: 'oc_chat',
        senderId: 'ou_customer',
        text: '你好',
        sentAtMs: NOW,
      },
    });
  });

  it('given an encrypted, signed event, then it is decrypted and read', () => {
    const { raw, headers } = signed(encrypted, event({ text: '@_user_1 我的订单' }));

    const outcome = readFeishuDelivery(encrypted, raw, headers, NOW, MAX_AGE);

    expect(outcome).toMatchObject({ kind: 'message', message: { text: '我的订单', deliveryId: 'ev-1' } });
  });

  it('given the URL verification handshake (encrypted or not), then the challenge is answered after the token check', () => {
    const handshake = { type: 'url_verification', challenge: 'c-123', token: 'v-token' };
    const raw = Buffer.from(JSON.stringify({ encrypt: feishuEncrypt('encrypt-key-1', handshake) }));

    expect(readFeishuDelivery(plain, Buffer.from(JSON.stringify(handshake)), {}, NOW, MAX_AGE)).toEqual({
      kind: 'challenge',
      challenge: 'c-123',
    });
    expect(readFeishuDelivery(encrypted, raw, {}, NOW, MAX_AGE)).toEqual({
      kind: 'challenge',
      challenge: 'c-123',
    });
    expect(
      refusal(() =>
        readFeishuDelivery(
          plain,
          Buffer.from(JSON.stringify({ ...handshake, token: 'guess' })),
          {},
          NOW,
          MAX_AGE,
        ),
      ),
    ).toBe('webhook-unauthorized');
  });

  it.each([
    [
      'a wrong verification token',
      () =>
        readFeishuDelivery(plain, Buffer.from(JSON.stringify(event({ token: 'v-tokem' }))), {}, NOW, MAX_AGE),
    ],
    [
      'a body changed after signing',
      () => {
        const { raw, headers } = signed(encrypted, event());
        const changed = Buffer.from(raw.toString().replace(/.$/, ' }'));
        return readFeishuDelivery(encrypted, changed, headers, NOW, MAX_AGE);
      },
    ],
    [
      'a signature made with another key',
      () => {
        const { raw, headers } = signed(encrypted, event(), NOW / 1000, 'another-key');
        return readFeishuDelivery(encrypted, raw, headers, NOW, MAX_AGE);
      },
    ],
    [
      'an unsigned event to an app with an Encrypt Key',
      () => {
        const { raw } = signed(encrypted, event());
        return readFeishuDelivery(encrypted, raw, {}, NOW, MAX_AGE);
      },
    ],
    [
      'a plain event to an app with an Encrypt Key',
      () => readFeishuDelivery(encrypted, Buffer.from(JSON.stringify(event())), {}, NOW, MAX_AGE),
    ],
  ])('given %s, then it is refused as unauthorized', (_, run) => {
    expect(refusal(run)).toBe('webhook-unauthorized');
  });

  it('given an event or a signature older than the window (or ahead of it), then it is refused as stale', () => {
    const old = NOW - MAX_AGE - 1_000;
    expect(
      refusal(() =>
        readFeishuDelivery(
          plain,
          Buffer.from(JSON.stringify(event({ createTimeMs: old }))),
          {},
          NOW,
          MAX_AGE,
        ),
      ),
    ).toBe('webhook-stale');
    expect(
      refusal(() =>
        readFeishuDelivery(
          plain,
          Buffer.from(JSON.stringify(event({ createTimeMs: NOW + MAX_AGE + 1_000 }))),
          {},
          NOW,
          MAX_AGE,
        ),
      ),
    ).toBe('webhook-stale');
    const { raw, headers } = signed(encrypted, event(), Math.floor(old / 1000));
    expect(refusal(() => readFeishuDelivery(encrypted, raw, headers, NOW, MAX_AGE))).toBe('webhook-stale');
  });

  it('given other events or non-text messages, then they are ignored, not recorded', () => {
    const other = {
      ...event(),
      header: { ...(event().header as object), event_type: 'im.chat.member.bot.added_v1' },
    };
    expect(readFeishuDelivery(plain, Buffer.from(JSON.stringify(other)), {}, NOW, MAX_AGE).kind).toBe(
      'ignored',
    );
  });
});
