import { AppError } from '@contracts';
import type { ChannelConnector, FeishuConnector, TelegramConnector } from './channels.config';

/** The configured connectors by id; an unknown id (or one of another kind) is 404, like any unknown path. */
export class ChannelConnectors {
  private readonly byId: ReadonlyMap<string, ChannelConnector>;

  constructor(connectors: readonly ChannelConnector[]) {
    this.byId = new Map(connectors.map((connector) => [connector.id, connector]));
  }

  get(id: string): ChannelConnector | undefined {
    return this.byId.get(id);
  }

  feishu(id: string): FeishuConnector {
    const connector = this.byId.get(id);
    if (connector?.kind !== 'feishu') throw new AppError('not-found', 'no such Feishu connector');
    return connector;
  }

  telegram(id: string): TelegramConnector {
    const connector = this.byId.get(id);
    if (connector?.kind !== 'telegram') throw new AppError('not-found', 'no such Telegram connector');
    return connector;
  }
}

/** Labels that mark a conversation as a chat of a connector: where its replies are delivered. */
export const CHANNEL_LABELS = {
  platform: 'im.platform',
  connector: 'im.connector',
  chat: 'im.chat',
} as const;
