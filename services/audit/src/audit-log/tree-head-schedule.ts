import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { AuditLogService } from './audit-log.service';

export const TREE_HEAD_INTERVAL_MS = Symbol('TREE_HEAD_INTERVAL_MS');

/** Signs a tree head for every grown log on an interval, so no entry stays unsigned for long. */
@Injectable()
export class TreeHeadSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(AuditLogService) private readonly log: AuditLogService,
    @Inject(TREE_HEAD_INTERVAL_MS) private readonly intervalMs: number,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // One round at a time: a slow database must not stack them up.
      this.running = this.running.then(() =>
        this.log.signGrownLogs().catch((error: unknown) => {
          this.logger.warn({ err: error }, 'could not sign tree heads; next round retries');
        }),
      );
    }, this.intervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
