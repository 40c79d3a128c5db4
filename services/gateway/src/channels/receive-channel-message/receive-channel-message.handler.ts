import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import { DerivedIds, contextOf, decide, derivedId, statusOf } from '@libs/conversation';
import { ConversationStreams, TenantSettingsStreams } from '@libs/event-store';
import { PINO_LOGGER, type Logger } from '@libs/platform';
import {
  REFERENCE_GENERATOR,
  SendMessageCommand,
  SendMessageHandler,
  type ReferenceGenerator,
} from '../engine';
import { CHANNEL_LABELS, ChannelConnectors } from '../channel-connectors';
import type { ReceiveChannelMessageCommand } from './receive-channel-message.command';

export type ReceiveOutcome = 'recorded' | 'replayed' | 'blocked';

/** Closed conversations of one chat to step over before giving up (a chat opens a new one after each close). */
const MAX_GENERATIONS = 1_000;

/**
 * Records a verified channel message in its chat's conversation. Each chat has one open conversation
 * at a time, its id derived from tenant, connector, chat and how many of the chat's conversations
 * closed before it; the message id derives from the platform's delivery id, so a delivery sent twice
 * (a platform retry or a replay) finds its message recorded and writes nothing. The message goes
 * through the same use case as a REST message (SendMessageHandler): the same word list, the same event.
 */
@Injectable()
export class ReceiveChannelMessageHandler {
  constructor(
    @Inject(ChannelConnectors) private readonly connectors: ChannelConnectors,
    @Inject(ConversationStreams) private readonly streams: ConversationStreams,
    @Inject(TenantSettingsStreams) private readonly settings: TenantSettingsStreams,
    @Inject(SendMessageHandler) private readonly sendMessage: SendMessageHandler,
    @Inject(REFERENCE_GENERATOR) private readonly newReference: ReferenceGenerator,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  async execute({ message }: ReceiveChannelMessageCommand): Promise<ReceiveOutcome> {
    const connector = this.connectors.get(message.connectorId);
    if (!connector) throw new AppError('not-found', 'no such connector');
    const tenantId = connector.tenantId;
    const idempotencyKey = `${message.platform}:${message.connectorId}:${message.deliveryId}`;
    for (let generation = 0; generation < MAX_GENERATIONS; generation++) {
      const conversationId = derivedId(
        'channel-conversation',
        tenantId,
        message.connectorId,
        message.chatId,
        String(generation),
      );
      const ref = { tenantId, conversationId };
      const state = await this.streams.load(ref);
      const messageId = DerivedIds.clientMessage(tenantId, conversationId, idempotencyKey);
      if (contextOf(state).transcript.some((entry) => entry.id === messageId)) return 'replayed';
      const status = statusOf(state);
      if (status === 'closed' || status === 'archived') continue;
      if (status === 'new') await this.start(ref, message.platform, message.connectorId, message.chatId);
      try {
        await this.sendMessage.execute(new SendMessageCommand(ref, message.text, idempotencyKey));
      } catch (error) {
        if (error instanceof AppError && error.code === 'content-blocked') return 'blocked';
        throw error;
      }
      this.logger.info(
        { tenantId, conversationId, messageId, connectorId: message.connectorId },
        'channel message recorded',
      );
      return 'recorded';
    }
    throw new AppError('internal', `chat has more than ${MAX_GENERATIONS} closed conversations`);
  }

  /** Opens the chat's conversation; one started concurrently by another delivery is as good. */
  private async start(
    ref: { tenantId: string; conversationId: string },
    platform: string,
    connectorId: string,
    chatId: string,
  ): Promise<void> {
    const eventId = derivedId('channel-conversation-started', ref.conversationId);
    const configVersion = await this.settings.currentVersion(ref.tenantId);
    const labels = {
      [CHANNEL_LABELS.platform]: platform,
      [CHANNEL_LABELS.connector]: connectorId,
      [CHANNEL_LABELS.chat]: chatId,
    };
    try {
      await this.streams.execute(ref, { causationId: null, correlationId: eventId }, (current) =>
        decide(
          {
            type: 'start-conversation',
            eventId,
            data: { channel: 'other', locale: null, labels, configVersion },
            reference: this.newReference(ref.tenantId),
          },
          current,
        ),
      );
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'conversation-exists')) throw error;
    }
  }
}
