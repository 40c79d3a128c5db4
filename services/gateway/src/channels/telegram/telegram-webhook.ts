import { z } from 'zod';
import { AppError } from '@contracts';
import type { TelegramConnector } from '../channels.config';
import { checkFresh } from '../feishu/feishu-webhook';
import { constantTimeEqual, type WebhookOutcome } from '../inbound-channel-message';

const Update = z.object({
  update_id: z.number().int().min(0),
  message: z
    .object({
      message_id: z.number().int(),
      /** Unix time, seconds. */
      date: z.number().int(),
      chat: z.object({ id: z.number().int() }),
      from: z.object({ id: z.number().int(), is_bot: z.boolean().optional() }).optional(),
      text: z.string().optional(),
    })
    .optional(),
});

/**
 * Verifies and reads one Telegram webhook update: the `X-Telegram-Bot-Api-Secret-Token` header must
 * equal the connector's secret (constant time; Telegram sends what setWebhook was given), and the
 * message's `date` must be within `maxAgeMs`. Other update kinds and non-text messages are ignored.
 */
export function readTelegramUpdate(
  connector: TelegramConnector,
  body: unknown,
  secretHeader: string | undefined,
  nowMs: number,
  maxAgeMs: number,
): WebhookOutcome {
  if (secretHeader === undefined || !constantTimeEqual(secretHeader, connector.secretToken)) {
    throw new AppError('webhook-unauthorized', undefined, { reason: 'secret token mismatch' });
  }
  const update = Update.safeParse(body);
  if (!update.success) throw new AppError('validation-failed', 'not a Telegram update');
  const { update_id: updateId, message } = update.data;
  if (message === undefined) return { kind: 'ignored', reason: 'not a message update' };
  checkFresh(message.date * 1000, nowMs, maxAgeMs);
  if (message.from?.is_bot === true) return { kind: 'ignored', reason: 'sent by a bot' };
  const text = message.text?.trim();
  if (text === undefined || text.length === 0) return { kind: 'ignored', reason: 'not a text message' };
  return {
    kind: 'message',
    message: {
      connectorId: connector.id,
      platform: 'telegram',
      deliveryId: String(updateId),
      chatId: String(message.chat.id),
      senderId: String(message.from?.id ?? message.chat.id),
      text,
      sentAtMs: message.date * 1000,
    },
  };
}
