import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { CommonSettings } from '@libs/config';
import { HealthController, HealthRegistry } from './health';
import { ProblemFilter } from './http/problem.filter';
import { PINO_LOGGER, createLogger } from './logger';
import { Metrics } from './metrics';

/** The service's name and parsed common settings, for the opt-in modules (store, Kafka, relay, consumer). */
export const SERVICE_SETTINGS = Symbol('SERVICE_SETTINGS');

export interface ServiceSettings {
  serviceName: string;
  config: CommonSettings;
}

/**
 * What every service has, whatever else it opts into: JSON logs, metrics, health and readiness, and
 * problem+json errors over HTTP. Outside systems come from their own modules (StoreModule,
 * KafkaModule, RelayModule, ConsumerModule), imported only by the services that use them.
 */
@Global()
@Module({})
export class PlatformModule {
  static forService(serviceName: string, config: CommonSettings): DynamicModule {
    const logger = createLogger(serviceName, config.LOG_LEVEL);
    const quietPaths = ['/healthz', '/readyz', '/metrics'];
    return {
      module: PlatformModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: { logger, autoLogging: { ignore: (req) => quietPaths.includes(req.url ?? '') } },
        }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_SETTINGS, useValue: { serviceName, config } satisfies ServiceSettings },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: PINO_LOGGER, useValue: logger },
        { provide: Metrics, useFactory: () => new Metrics(serviceName) },
        { provide: HealthRegistry, useFactory: () => new HealthRegistry() },
      ],
      exports: [SERVICE_SETTINGS, PINO_LOGGER, Metrics, HealthRegistry],
    };
  }
}
