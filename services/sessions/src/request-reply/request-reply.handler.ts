import { Inject, Injectable } from '@nestjs/common';
import { contextOf, decideReply, replyPolicyFor, type ReplyPolicy } from '@libs/conversation';
import { ConversationStreams, TenantSettingsStreams } from '@libs/event-store';
import type { RequestReplyCommand } from './request-reply.command';

export const REPLY_POLICY = Symbol('REPLY_POLICY');

@Injectable()
export class RequestReplyHandler {
  constructor(
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams,
    @Inject(REPLY_POLICY) private readonly defaults: ReplyPolicy,
  ) {}

  async execute({ trigger }: RequestReplyCommand): Promise<void> {
    // The stream, not the Kafka message, is the truth: decide on the stored state, which may be
    // ahead of the trigger. A redelivered trigger derives the same turn id and appends nothing.
    await this.streams.execute(
      { tenantId: trigger.tenantId, conversationId: trigger.conversationId },
      { causationId: trigger.eventId, correlationId: trigger.correlationId },
      async (state) => {
        // The settings version the conversation started under, never the tenant's latest: a conversation
        // keeps its configuration for life, and replaying it needs nothing but the two streams.
        const settings = await this.settings.atVersion(trigger.tenantId, contextOf(state).configVersion);
        return decideReply(state, replyPolicyFor(this.defaults, settings));
      },
    );
  }
}
