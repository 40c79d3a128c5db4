import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '@contracts';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import type { WithRawBody } from '../http/route-json-body';
import { ChannelConnectors } from './channel-connectors';
import { readFeishuDelivery } from './feishu/feishu-webhook';
import type { WebhookOutcome } from './inbound-channel-message';
import { ReceiveChannelMessageCommand, ReceiveChannelMessageHandler } from './receive-channel-message';
import { readTelegramUpdate } from './telegram/telegram-webhook';

export const CHANNEL_MAX_AGE_MS = Symbol('CHANNEL_MAX_AGE_MS');

/** The webhook routes; their JSON bodies are parsed with the raw bytes kept (Feishu signs them). */
export const CHANNEL_ROUTES = [
  { method: 'POST', path: /^\/v1\/channels\/feishu\/[^/]+\/events\/?$/i },
  { method: 'POST', path: /^\/v1\/channels\/telegram\/[^/]+\/webhook\/?$/i },
] as const;

/**
 * IM platforms' webhooks. No API key: each delivery is authenticated by its platform's own proof
 * (Feishu's verification token and signature, Telegram's secret token), checked before anything is
 * read or written. A forged or stale delivery is refused (401 / 400) and leaves only a log line; a
 * replayed one is acknowledged (200, so the platform stops retrying) and writes nothing.
 */
@Controller('v1/channels')
export class ChannelsController {
  constructor(
    @Inject(ChannelConnectors) private readonly connectors: ChannelConnectors,
    @Inject(ReceiveChannelMessageHandler) private readonly receive: ReceiveChannelMessageHandler,
    @Inject(CHANNEL_MAX_AGE_MS) private readonly maxAgeMs: number,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  @Post('feishu/:connectorId/events')
  @HttpCode(200)
  async feishu(
    @Param('connectorId') connectorId: string,
    @Req() req: Request & WithRawBody,
  ): Promise<object> {
    return this.handle(connectorId, () =>
      readFeishuDelivery(
        this.connectors.feishu(connectorId),
        req.rawBody ?? Buffer.alloc(0),
        {
          timestamp: header(req, 'x-lark-request-timestamp'),
          nonce: header(req, 'x-lark-request-nonce'),
          signature: header(req, 'x-lark-signature'),
        },
        Date.now(),
        this.maxAgeMs,
      ),
    );
  }

  @Post('telegram/:connectorId/webhook')
  @HttpCode(200)
  async telegram(@Param('connectorId') connectorId: string, @Req() req: Request): Promise<object> {
    return this.handle(connectorId, () =>
      readTelegramUpdate(
        this.connectors.telegram(connectorId),
        req.body,
        header(req, 'x-telegram-bot-api-secret-token'),
        Date.now(),
        this.maxAgeMs,
      ),
    );
  }

  private async handle(connectorId: string, read: () => WebhookOutcome): Promise<object> {
    let outcome: WebhookOutcome;
    try {
      outcome = read();
    } catch (error) {
      if (error instanceof AppError) {
        this.logger.warn({ connectorId, code: error.code, ...error.details }, 'webhook delivery rejected');
      }
      throw error;
    }
    switch (outcome.kind) {
      case 'challenge':
        this.logger.info({ connectorId }, 'webhook URL verified');
        return { challenge: outcome.challenge };
      case 'ignored':
        this.logger.info({ connectorId, reason: outcome.reason }, 'webhook delivery ignored');
        return {};
      case 'message': {
        const { deliveryId } = outcome.message;
        const result = await this.receive.execute(new ReceiveChannelMessageCommand(outcome.message));
        if (result !== 'recorded')
          this.logger.warn({ connectorId, deliveryId, result }, 'webhook delivery not recorded');
        return {};
      }
      default: {
        const unexpected: never = outcome;
        throw new Error(`unknown webhook outcome ${String(unexpected)}`);
      }
    }
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}
