/**
 * kafkajs 2.2.4 (its last release) re-arms a 1 ms timer on every broker connection forever once the
 * connection is idle (kafkajs #1556): each service spent most of its idle CPU there. patches/ fixes it
 * (npm's postinstall runs patch-package); these tests fail on the unpatched library.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (
  options: object,
) => KafkaRequestQueue;

interface KafkaRequestQueue {
  throttledUntil: number;
  pending: unknown[];
  checkPendingRequests(): void;
  push(request: object): void;
}

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function queue(): KafkaRequestQueue {
  return new RequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'unit',
    broker: 'localhost:9092',
    logger: silent,
  });
}

function request(correlationId: number, sendRequest: () => void): object {
  return {
    entry: {
      apiKey: 1,
      apiName: 'Fetch',
      apiVersion: 11,
      correlationId,
      resolve: () => undefined,
      reject: () => undefined,
    },
    expectResponse: false,
    sendRequest,
  };
}

describe('kafkajs RequestQueue (patched)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('given an idle connection, schedules no further checks of the queue', () => {
    const idle = queue();
    const checks = jest.spyOn(idle, 'checkPendingRequests');

    idle.checkPendingRequests();
    jest.advanceTimersByTime(1_000);

    expect(checks).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('given a request pushed while throttled, still sends it when the throttle ends', () => {
    const throttled = queue();
    throttled.throttledUntil = Date.now() + 50;
    const sent = jest.fn();

    throttled.push(request(1, sent));
    jest.advanceTimersByTime(40);
    expect(sent).not.toHaveBeenCalled();
    jest.advanceTimersByTime(20);

    expect(sent).toHaveBeenCalledTimes(1);
    expect(throttled.pending).toHaveLength(0);
  });

  it('given a request sent at once, leaves no timer behind', () => {
    const open = queue();
    const sent = jest.fn();

    open.push(request(1, sent));
    open.checkPendingRequests();
    jest.advanceTimersByTime(1_000);

    expect(sent).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
