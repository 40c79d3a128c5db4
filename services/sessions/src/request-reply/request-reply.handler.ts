import { Inject, Injectable } from '@nestjs/common';
import { decideReply, type ReplyPolicy } from '@libs/conversation';
import { ConversationStreams } from '@libs/event-store';
import type { RequestReplyCommand } from './request-reply.command';

export const REPLY_POLICY = Symbol('REPLY_POLICY');

@Injectable()
export class RequestReplyHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(REPLY_POLICY) private readonly policy: ReplyPolicy,
  ) {}

  async execute({ trigger }: RequestReplyCommand): Promise<void> {
    // The stream, not the Kafka message, is the truth: decide on the stored state, which may be
    // ahead of the trigger. A redelivered trigger derives the same turn id and appends nothing.
    await this.streams.execute(
      { tenantId: trigger.tenantId, conversationId: trigger.conversationId },
      { causationId: trigger.eventId, correlationId: trigger.correlationId },
      (state) => decideReply(state, this.policy),
    );
  }
}
