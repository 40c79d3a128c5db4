import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, ProjectionModule, StoreModule } from '@libs/platform';
import type { AuditConfig } from './audit.config';
import { ConversationSummaryProjection } from './conversation-summaries';
import { AUDIT_TABLES } from './migrations';

/**
 * Audit and analytics read the store itself, in its global order, from their own checkpoints: no
 * Kafka consumer, and every event exactly once even across crashes.
 */
@Module({})
export class AuditModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditModule,
      imports: [
        PlatformModule.forService('audit', config),
        StoreModule.forService({ ownTables: AUDIT_TABLES }),
        ProjectionModule.forService([ConversationSummaryProjection]),
      ],
    };
  }
}
