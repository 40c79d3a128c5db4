import { AppError } from '@contracts';
import { telegramUpdate } from '@test/support';
import type { TelegramConnector } from '../channels.config';
import { readTelegramUpdate } from './telegram-webhook';

const NOW = Date.parse('2026-12-02T02:00:00Z');
const MAX_AGE = 300_000;
const bot: TelegramConnector = {
  kind: 'telegram',
  id: 'tg-1',
  tenantId: 'acme',
  botToken: '123:abc',
  secretToken: 's3cret-token',
  apiBaseUrl: 'http://127.0.0.1:1',
};

function refusal(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return null;
}

describe('Telegram updates', () => {
  const update = telegramUpdate({ updateId: 77, chatId: 4242, text: ' where is my parcel? ', dateMs: NOW });

  it('given the secret token, then a text message reads as the channel-neutral message', () => {
    expect(readTelegramUpdate(bot, update, 's3cret-token', NOW, MAX_AGE)).toEqual({
      kind: 'message',
      message: {
        connectorId: 'tg-1',
        platform: 'telegram',
        deliveryId: '77',
        chatId: '4242',
        senderId: '4242',
        text: 'where is my parcel?',
        sentAtMs: NOW,
      },
    });
  });

  it.each([
    ['no secret header', undefined],
    ['a wrong secret', 's3cret-tokem'],
    ['a prefix of the secret', 's3cret'],
  ])('given %s, then the update is refused as unauthorized', (_, secret) => {
    expect(refusal(() => readTelegramUpdate(bot, update, secret, NOW, MAX_AGE))).toBe('webhook-unauthorized');
  });

  it('given a message older than the window, then it is refused as stale', () => {
    const old = telegramUpdate({ updateId: 78, chatId: 4242, text: 'hi', dateMs: NOW - MAX_AGE - 1_000 });
    expect(refusal(() => readTelegramUpdate(bot, old, 's3cret-token', NOW, MAX_AGE))).toBe('webhook-stale');
  });

  it('given an update without a text message, then it is ignored', () => {
    expect(
      readTelegramUpdate(bot, { update_id: 79, edited_message: {} }, 's3cret-token', NOW, MAX_AGE).kind,
    ).toBe('ignored');
  });
});
