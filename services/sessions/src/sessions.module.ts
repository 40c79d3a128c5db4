import { Module, type DynamicModule } from '@nestjs/common';
import { ConsumerModule, KafkaModule, PlatformModule, RelayModule, StoreModule } from '@libs/platform';
import { REPLY_POLICY, RequestReplyHandler } from './request-reply';
import { SessionsEventsController } from './sessions.events.controller';
import type { SessionsConfig } from './sessions.config';

@Module({})
export class SessionsModule {
  static forRoot(config: SessionsConfig): DynamicModule {
    return {
      module: SessionsModule,
      imports: [
        PlatformModule.forService('sessions', config),
        StoreModule.forService(),
        KafkaModule.forService(),
        RelayModule.forService(),
        ConsumerModule.forService({ groupId: 'sessions' }),
      ],
      controllers: [SessionsEventsController],
      providers: [
        {
          provide: REPLY_POLICY,
          useValue: {
            systemPrompt: config.SYSTEM_PROMPT,
            historyLimit: config.HISTORY_LIMIT,
            maxTokens: config.REPLY_MAX_TOKENS,
          },
        },
        RequestReplyHandler,
      ],
    };
  }
}
