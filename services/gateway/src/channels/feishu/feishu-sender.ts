import { Client, LoggerLevel } from '@larksuiteoapi/node-sdk';
import type { FeishuConnector } from '../channels.config';

/**
 * Sends text to a Feishu chat through the official SDK (which fetches and caches the app's
 * tenant_access_token). `uuid` is Feishu's idempotency key: a retried send with the same delivery id
 * within an hour does not post the message twice.
 */
export class FeishuSender {
  private readonly clients = new Map<string, Client>();

  async send(connector: FeishuConnector, chatId: string, text: string, deliveryId: string): Promise<string> {
    const response = await this.clientOf(connector).im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'text', content: JSON.stringify({ text }), uuid: deliveryId },
    });
    if (response.code !== 0 && response.code !== undefined) {
      throw new Error(`Feishu answered code ${response.code}: ${response.msg ?? ''}`);
    }
    return response.data?.message_id ?? '';
  }

  private clientOf(connector: FeishuConnector): Client {
    let client = this.clients.get(connector.id);
    if (client === undefined) {
      client = new Client({
        appId: connector.appId,
        appSecret: connector.appSecret,
        domain: connector.apiBaseUrl,
        loggerLevel: LoggerLevel.error, // the SDK would log request details otherwise
      });
      this.clients.set(connector.id, client);
    }
    return client;
  }
}
