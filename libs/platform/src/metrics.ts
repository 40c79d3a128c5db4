import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConsumeTiming, HandledOutcome } from '@libs/messaging';

/** Prometheus metrics of one service, served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();

  readonly eventsHandled = new Counter({
    name: 'convo_events_handled_total',
    help: 'Events consumed from Kafka, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Alert on any increase: a handler bug is holding these events back until they are re-driven. */
  readonly eventsParked = new Counter({
    name: 'convo_events_parked_total',
    help: 'Events parked in the dead-letter topic after their handler kept failing (fix, then npm run dlq:redrive), by consumer group and type',
    labelNames: ['group', 'type'] as const,
    registers: [this.registry],
  });

  readonly outboxPublished = new Counter({
    name: 'convo_outbox_published_total',
    help: 'Events published from the outbox to Kafka',
    registers: [this.registry],
  });

  readonly modelLatency = new Histogram({
    name: 'convo_model_seconds',
    help: 'Model call duration, by phase (first_token, total)',
    labelNames: ['phase'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly httpRequests = new Histogram({
    name: 'convo_http_request_seconds',
    help: 'HTTP requests served, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Producer timestamp to handler start, per consumer group: the cost of a Kafka hop. */
  readonly eventDelivery = new Histogram({
    name: 'convo_event_delivery_seconds',
    help: 'Time from an event being published to its handler starting, by consumer group',
    labelNames: ['group'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  /** A handler's own time for one event (retries included), per event type. */
  readonly eventHandling = new Histogram({
    name: 'convo_event_handling_seconds',
    help: 'Time a consumer spent on one event, by consumer group and event type',
    labelNames: ['group', 'type'] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The outcome of one consumed event (KafkaEventServer's onHandled). Labels never name a tenant. */
  eventConsumed(groupId: string, type: string, outcome: HandledOutcome, timing?: ConsumeTiming): void {
    this.eventsHandled.inc({ type, outcome });
    if (timing && outcome !== 'ignored') {
      this.eventDelivery.observe({ group: groupId }, timing.deliveryMs / 1_000);
      this.eventHandling.observe({ group: groupId, type }, timing.handlingMs / 1_000);
    }
    if (outcome === 'parked') this.eventsParked.inc({ group: groupId, type });
  }
}
