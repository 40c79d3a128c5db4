import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { decideTimerFired } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import { TimerLeaderLock } from './timer-leader';
import { TimerRepository, type ScheduledTimer } from './timer.repository';

export const TIMER_SETTINGS = Symbol('TIMER_SETTINGS');
export interface TimerSettings {
  databaseUrl: string;
  pollIntervalMs: number;
}

/**
 * Fires due timers: one leader at a time (advisory lock), so a timer is fired by one replica; and
 * the event a timer appends has an id derived from the timer, so a timer fired again after a crash
 * (appended, not yet marked) appends nothing new. Timers are rows: a restart loses none.
 */
@Injectable()
export class TimerScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly lock: TimerLeaderLock;

  constructor(
    @Inject(TimerRepository) private readonly timers: TimerRepository,
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
    @Inject(TIMER_SETTINGS) private readonly settings: TimerSettings,
  ) {
    this.lock = new TimerLeaderLock(settings.databaseUrl, 'sessions-timers');
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.lock.release();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (await this.lock.tryAcquire()) {
          for (const scheduled of await this.timers.due(100)) await this.fire(scheduled);
        }
      } catch (error) {
        this.logger.error({ err: error }, 'timer scheduler failed; retrying');
        await this.lock.release();
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, this.settings.pollIntervalMs);
      });
    }
  }

  private async fire({ ref, timer, causationId, correlationId }: ScheduledTimer): Promise<void> {
    const { status } = await this.streams.execute(ref, { causationId, correlationId }, (state) =>
      decideTimerFired(state, timer),
    );
    await this.timers.markFired(timer.timerId);
    // Most timers fire after what they waited for happened (a message's knowledge came in time): one
    // info line per message that changed nothing would drown the ones that did.
    const details = { conversationId: ref.conversationId, kind: timer.kind, status };
    if (status === 'unchanged') this.logger.debug(details, 'timer fired');
    else this.logger.info(details, 'timer fired');
  }
}
