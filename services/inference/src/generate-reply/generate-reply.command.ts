import type { EventOfType } from '@contracts';

export class GenerateReplyCommand {
  constructor(readonly request: EventOfType<'conversation.reply-requested.v1'>) {}
}
