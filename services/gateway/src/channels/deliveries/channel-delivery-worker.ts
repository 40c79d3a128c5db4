import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InterruptibleDelay } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { ChannelConnectors } from '../channel-connectors';
import { FeishuSender } from '../feishu/feishu-sender';
import { TelegramSender } from '../telegram/telegram-sender';
import { ChannelDeliveriesRepository, type DueDelivery } from './channel-deliveries.repository';

const POLL_MS = 200;
const LEASE_MS = 30_000;
const BATCH = 20;
/** 0.5 s doubling to 5 min: about a day of retries before a reply is given up (and logged). */
const MAX_ATTEMPTS = 12;

export function retryDelayMs(attempts: number): number {
  return Math.min(500 * 2 ** (attempts - 1), 300_000);
}

/**
 * Sends queued replies to their platforms, retrying failures with backoff under the same delivery id.
 * Every replica runs it; claims with SKIP LOCKED and a lease keep a delivery with one sender at a time.
 */
@Injectable()
export class ChannelDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly idle = new InterruptibleDelay();
  private readonly feishu = new FeishuSender();
  private readonly telegram = new TelegramSender();

  constructor(
    @Inject(ChannelDeliveriesRepository) private readonly deliveries: ChannelDeliveriesRepository,
    @Inject(ChannelConnectors) private readonly connectors: ChannelConnectors,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.idle.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let due: DueDelivery[] = [];
      try {
        due = await this.deliveries.claim(BATCH, LEASE_MS);
        await Promise.all(due.map((delivery) => this.deliver(delivery)));
      } catch (error) {
        this.logger.warn({ err: error }, 'channel delivery round failed');
      }
      if (due.length < BATCH) await this.idle.wait(POLL_MS);
    }
  }

  private async deliver(delivery: DueDelivery): Promise<void> {
    const { deliveryId, connectorId, chatId, text, attempts } = delivery;
    const connector = this.connectors.get(connectorId);
    try {
      if (connector === undefined) throw new Error(`connector ${connectorId} is not configured`);
      const platformMessageId =
        connector.kind === 'feishu'
          ? await this.feishu.send(connector, chatId, text, deliveryId)
          : await this.telegram.send(connector, chatId, text);
      await this.deliveries.markSent(deliveryId, platformMessageId);
      this.logger.info({ deliveryId, connectorId, attempts }, 'channel reply delivered');
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const retryInMs = attempts < MAX_ATTEMPTS && connector !== undefined ? retryDelayMs(attempts) : null;
      await this.deliveries.markFailed(deliveryId, message, retryInMs);
      const details = { deliveryId, connectorId, attempts, retryInMs, message };
      if (retryInMs === null) this.logger.error(details, 'channel reply given up');
      else this.logger.warn(details, 'channel reply failed; retrying');
    }
  }
}
