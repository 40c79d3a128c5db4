import { Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { sign, verify } from 'node:crypto';
import { parseAuditSigningKey, type AuditSigningKey } from '@libs/audit-log';
import {
  API_KEY_CACHE_TTL_MS,
  AccessLog,
  ApiKeyGuard,
  HealthRegistry,
  PlatformModule,
  PrincipalResolver,
  ProjectionModule,
  StoreModule,
} from '@libs/platform';
import type { AuditConfig } from './audit.config';
import {
  AUDIT_CLOCK,
  AUDIT_SIGNING_KEY,
  AuditLogController,
  AuditLogProjection,
  AuditLogService,
  TREE_HEAD_INTERVAL_MS,
  TreeHeadSchedule,
} from './audit-log';
import { AnalyticsController, ConversationAnalyticsRepository } from './analytics';
import { ConversationSummaryProjection } from './conversation-summaries';
import { EraseConversationHandler, ErasureController } from './erasure';
import { AUDIT_TABLES } from './migrations';

/** Readiness: the key signs, and its signature verifies (a key swapped for a broken one is not ready). */
class SigningKeyCheck implements OnModuleInit {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(AUDIT_SIGNING_KEY) private readonly key: AuditSigningKey,
  ) {}

  onModuleInit(): void {
    this.health.register('audit-signing-key', () => {
      const probe = Buffer.from('convo-engine/audit-log/readiness');
      return verify(null, probe, this.key.publicKey, sign(null, probe, this.key.privateKey))
        ? Promise.resolve()
        : Promise.reject(new Error('the signing key does not verify its own signature'));
    });
  }
}

/**
 * Audit and analytics read the store itself, in its global order, from their own checkpoints: no
 * Kafka consumer, and every event exactly once even across crashes. The audit log is one of those
 * projections; its routes answer to compliance and admin keys.
 */
@Module({})
export class AuditModule {
  static forRoot(config: AuditConfig): DynamicModule {
    // Parsed here, before anything starts: a bad key stops the service with the reason.
    const signingKey = parseAuditSigningKey(config.AUDIT_SIGNING_KEY);
    return {
      module: AuditModule,
      imports: [
        PlatformModule.forService('audit', config),
        StoreModule.forService({ ownTables: AUDIT_TABLES }),
        ProjectionModule.forService([ConversationSummaryProjection, AuditLogProjection]),
      ],
      controllers: [AuditLogController, AnalyticsController, ErasureController],
      providers: [
        { provide: AUDIT_SIGNING_KEY, useValue: signingKey },
        { provide: AUDIT_CLOCK, useValue: () => new Date() },
        { provide: TREE_HEAD_INTERVAL_MS, useValue: config.AUDIT_TREE_HEAD_INTERVAL_MS },
        { provide: API_KEY_CACHE_TTL_MS, useValue: config.API_KEY_CACHE_TTL_MS },
        PrincipalResolver,
        AccessLog,
        ApiKeyGuard,
        AuditLogService,
        ConversationAnalyticsRepository,
        EraseConversationHandler,
        TreeHeadSchedule,
        SigningKeyCheck,
      ],
    };
  }
}
