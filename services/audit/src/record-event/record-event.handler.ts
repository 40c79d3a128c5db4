import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { ConversationEvent } from '@contracts';
import { InboxRepository } from '@libs/event-store';
import { Metrics } from '@libs/platform';

/**
 * Audit's first duty: see every event exactly once and count it per type.
 * Not per tenant: /metrics is unauthenticated, and tenant ids and their volumes are the tenants' own
 * business. The hash-chained trail builds on this consumer in its own issue.
 */
@Injectable()
export class RecordEventHandler {
  private readonly recorded: Counter<'type'>;

  constructor(
    @Inject(InboxRepository) private readonly inbox: InboxRepository,
    @Inject(Metrics) metrics: Metrics,
  ) {
    this.recorded = new Counter({
      name: 'convo_audit_events_recorded_total',
      help: 'Distinct events recorded by audit',
      labelNames: ['type'] as const,
      registers: [metrics.registry],
    });
  }

  async execute(event: ConversationEvent): Promise<void> {
    await this.inbox.once('audit', event.eventId, () => {
      this.recorded.inc({ type: event.type });
      return Promise.resolve();
    });
  }
}
