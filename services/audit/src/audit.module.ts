import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@libs/platform';
import { AuditEventsController } from './audit.events.controller';
import type { AuditConfig } from './audit.config';
import { RecordEventHandler } from './record-event';

@Module({})
export class AuditModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditModule,
      imports: [PlatformModule.forService('audit', config, { consumer: { groupId: 'audit' }, relay: false })],
      controllers: [AuditEventsController],
      providers: [RecordEventHandler],
    };
  }
}
