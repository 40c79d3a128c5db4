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
});
