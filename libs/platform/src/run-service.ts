import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { NextFunction, Request, Response } from 'express';
import { KafkaEventServer } from '@libs/messaging';
import { Metrics } from './metrics';

export interface RunServiceOptions {
  module: DynamicModule;
  host: string;
  port: number;
  /** Consume conversation events through the Kafka transport. */
  consumes: boolean;
  /** Gateway-only HTTP setup (body parsing, OpenAPI, WebSocket) before listening. */
  configure?: (app: INestApplication) => Promise<void> | void;
  bodyParser?: boolean;
}

/** Boots one service: HTTP (health, metrics, API), then the Kafka consumer, with graceful shutdown. */
export async function runService(options: RunServiceOptions): Promise<INestApplication> {
  const app = await NestFactory.create(options.module, {
    bufferLogs: true,
    bodyParser: options.bodyParser ?? true,
  });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  app.use(recordHttpMetrics(app.get(Metrics)));
  await options.configure?.(app);
  if (options.consumes) {
    app.connectMicroservice<MicroserviceOptions>(
      { strategy: app.get(KafkaEventServer) },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  }
  await app.listen(options.port, options.host);
  return app;
}

/** Request count and duration per route template (never the raw path, which would carry ids). */
function recordHttpMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.httpRequests.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      stop({ method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
    });
    next();
  };
}
