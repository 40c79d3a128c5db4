import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Metrics } from './metrics';

export type HealthCheck = () => Promise<unknown>;

/** Readiness checks, one per dependency. Each module registers the dependencies it really uses. */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly details = new Map<string, () => unknown>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  /** State worth seeing next to the checks that does not decide readiness (circuit breakers, say). */
  registerDetail(name: string, read: () => unknown): void {
    this.details.set(name, read);
  }

  async run(timeoutMs = 3_000): Promise<{
    ready: boolean;
    checks: Record<string, { ok: boolean; error?: string }>;
    details?: Record<string, unknown>;
  }> {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    await Promise.all(
      [...this.checks.entries()].map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          checks[name] = { ok: true };
        } catch (error) {
          checks[name] = { ok: false, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const ready = Object.values(checks).every((result) => result.ok);
    if (this.details.size === 0) return { ready, checks };
    return {
      ready,
      checks,
      details: Object.fromEntries([...this.details].map(([name, read]) => [name, read()])),
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

@Controller()
export class HealthController {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: every dependency this service uses answers. */
  @Get('readyz')
  async ready(@Res() res: Response): Promise<void> {
    const report = await this.health.run();
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not-ready', ...report });
  }

  @Get('metrics')
  async scrape(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
