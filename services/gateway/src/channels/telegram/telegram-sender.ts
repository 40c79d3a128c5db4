import { Api } from 'grammy';
import type { TelegramConnector } from '../channels.config';

/**
 * Sends text to a Telegram chat through grammY's Bot API client. The Bot API has no idempotency key:
 * the delivery queue sends a reply until one call succeeds and records it, so a duplicate is only
 * possible when a call succeeded but its answer was lost.
 */
export class TelegramSender {
  private readonly apis = new Map<string, Api>();

  async send(connector: TelegramConnector, chatId: string, text: string): Promise<string> {
    const message = await this.apiOf(connector).sendMessage(chatId, text);
    return String(message.message_id);
  }

  private apiOf(connector: TelegramConnector): Api {
    let api = this.apis.get(connector.id);
    if (api === undefined) {
      api = new Api(connector.botToken, { apiRoot: connector.apiBaseUrl.replace(/\/$/, '') });
      this.apis.set(connector.id, api);
    }
    return api;
  }
}
