import { Inject, Injectable } from '@nestjs/common';
import { EventStore } from '@libs/event-store';
import { DocumentIds } from '@libs/knowledge';
import { SearchKnowledgeHandler, SearchKnowledgeQuery } from '../search-knowledge';
import type { RetrieveKnowledgeCommand } from './retrieve-knowledge.command';

/** Citations a turn's prompt carries. */
export const TURN_TOP_K = 5;

/**
 * One `knowledge-retrieved` per customer message, always, whatever the backends do: sessions waits for
 * it before asking for the reply, so a failed search is recorded (degraded, no results), never skipped.
 * Its id derives from the message, so a redelivered message appends nothing new. The append does not
 * depend on the conversation's state (expected version `any`): it is a fact about the message.
 */
@Injectable()
export class RetrieveKnowledgeHandler {
  constructor(
    @Inject(SearchKnowledgeHandler) private readonly search: SearchKnowledgeHandler,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ message }: RetrieveKnowledgeCommand): Promise<'appended' | 'duplicate'> {
    const found = await this.search.execute(
      new SearchKnowledgeQuery(message.tenantId, message.data.text, TURN_TOP_K),
    );
    const result = await this.store.append(
      {
        kind: 'conversation',
        tenantId: message.tenantId,
        streamId: message.conversationId,
        expectedVersion: 'any',
        causationId: message.eventId,
        correlationId: message.correlationId,
      },
      [
        {
          eventId: DocumentIds.knowledgeRetrieved(message.data.messageId),
          type: 'conversation.knowledge-retrieved.v1',
          data: {
            messageId: message.data.messageId,
            query: message.data.text,
            results: found.results,
            degraded: found.degraded,
            timings: found.timings,
          },
        },
      ],
    );
    return result.status;
  }
}
