import { Metrics } from './metrics';

const TYPE = 'conversation.message-received.v1';

describe('Metrics.eventConsumed', () => {
  it('counts a parked event per consumer group and type, and as an outcome of the handled counter', async () => {
    const metrics = new Metrics('sessions');

    metrics.eventConsumed('sessions', TYPE, 'parked');
    metrics.eventConsumed('sessions', TYPE, 'parked');
    metrics.eventConsumed('sessions', TYPE, 'handled');

    const parked = await metrics.eventsParked.get();
    expect(parked.values).toEqual([{ labels: { group: 'sessions', type: TYPE }, value: 2 }]);
    const handled = await metrics.eventsHandled.get();
    expect(handled.values).toEqual(
      expect.arrayContaining([
        { labels: { type: TYPE, outcome: 'parked' }, value: 2 },
        { labels: { type: TYPE, outcome: 'handled' }, value: 1 },
      ]),
    );
  });

  it.each(['handled', 'ignored', 'dead-lettered'] as const)(
    'does not count %s as parked',
    async (outcome) => {
      const metrics = new Metrics('sessions');

      metrics.eventConsumed('sessions', TYPE, outcome);

      expect((await metrics.eventsParked.get()).values).toEqual([]);
    },
  );

  it('times the Kafka hop per group and the handling per group and type, skipping events it ignores', async () => {
    const metrics = new Metrics('sessions');

    metrics.eventConsumed('sessions', TYPE, 'handled', { deliveryMs: 6, handlingMs: 18 });
    metrics.eventConsumed('sessions', 'conversation.reply-chunk-generated.v1', 'ignored', {
      deliveryMs: 900,
      handlingMs: 0.1,
    });

    const delivery = (await metrics.eventDelivery.get()).values;
    expect(delivery).toContainEqual(
      expect.objectContaining({ metricName: 'convo_event_delivery_seconds_sum', value: 0.006 }),
    );
    expect(delivery).toContainEqual(
      expect.objectContaining({ metricName: 'convo_event_delivery_seconds_count', value: 1 }),
    );
    const handling = (await metrics.eventHandling.get()).values;
    expect(handling).toContainEqual(
      expect.objectContaining({
        metricName: 'convo_event_handling_seconds_sum',
        labels: { group: 'sessions', type: TYPE },
        value: 0.018,
      }),
    );
    expect(handling.filter((value) => value.labels['type'] !== TYPE)).toEqual([]);
  });
});
