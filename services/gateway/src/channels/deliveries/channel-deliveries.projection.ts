import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Projection, RecordedEvent } from '@libs/event-store';
import { CHANNEL_LABELS } from '../channel-connectors';

/**
 * Queues what the customer of a channel conversation must receive: the bot's completed replies (the
 * completion's text, which is the word list's replacement when a reply was blocked), its template
 * messages and human agents' messages. Applied on read-all in the checkpoint's transaction, so each
 * is queued exactly once; the delivery id is the event's id, which the platforms get as idempotency key.
 */
@Injectable()
export class ChannelDeliveriesProjection implements Projection {
  readonly name = 'gateway.channel-deliveries';

  async apply(events: readonly RecordedEvent[], tx: EntityManager): Promise<void> {
    for (const { event } of events) {
      if (event.type === 'conversation.started.v2') {
        const connector = event.data.labels[CHANNEL_LABELS.connector];
        const chat = event.data.labels[CHANNEL_LABELS.chat];
        if (connector === undefined || chat === undefined) continue;
        await tx.query(
          `INSERT INTO channel_conversations (tenant_id, conversation_id, connector_id, chat_id)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
          [event.tenantId, event.conversationId, connector, chat],
        );
      } else if (
        event.type === 'conversation.reply-completed.v2' ||
        event.type === 'conversation.bot-message-sent.v1' ||
        event.type === 'conversation.agent-message-sent.v1'
      ) {
        await tx.query(
          `INSERT INTO channel_deliveries (delivery_id, tenant_id, conversation_id, connector_id, chat_id, text)
           SELECT $1, tenant_id, conversation_id, connector_id, chat_id, $4 FROM channel_conversations
            WHERE tenant_id = $2 AND conversation_id = $3
           ON CONFLICT DO NOTHING`,
          [event.eventId, event.tenantId, event.conversationId, event.data.text],
        );
      }
    }
  }

  async reset(tx: EntityManager): Promise<void> {
    // Deliveries already sent are kept (their ids stop a rebuild from sending them again).
    await tx.query('DELETE FROM channel_conversations');
  }
}
