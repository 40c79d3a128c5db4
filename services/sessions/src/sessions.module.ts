import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@libs/platform';
import { REPLY_POLICY, RequestReplyHandler } from './request-reply';
import { SessionsEventsController } from './sessions.events.controller';
import type { SessionsConfig } from './sessions.config';

@Module({})
export class SessionsModule {
  static forRoot(config: SessionsConfig): DynamicModule {
    return {
      module: SessionsModule,
      imports: [
        PlatformModule.forService('sessions', config, { consumer: { groupId: 'sessions' }, relay: true }),
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
