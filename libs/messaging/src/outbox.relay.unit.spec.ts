import type { Logger } from 'pino';
import type { OutboxEntry, OutboxReader } from '@libs/event-store';
import { waitFor } from '@test/support';
import type { KafkaPublisher } from './kafka.publisher';
import { OutboxRelay } from './outbox.relay';

/** An outbox session that records what the relay asks of it; `leads` decides the advisory lock. */
class FakeReader {
  readonly calls: string[] = [];
  leads = false;
  private listening = false;
  private onAppended: () => void = () => undefined;

  connect(onAppended: () => void): Promise<void> {
    this.calls.push('connect');
    this.onAppended = onAppended;
    return Promise.resolve();
  }

  tryBecomeLeader(): Promise<boolean> {
    this.calls.push('tryBecomeLeader');
    return Promise.resolve(this.leads);
  }

  listen(): Promise<void> {
    this.calls.push('listen');
    this.listening = true;
    return Promise.resolve();
  }

  nextBatch(): Promise<OutboxEntry[]> {
    this.calls.push('nextBatch');
    return Promise.resolve([]);
  }

  markPublished(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** An append: PostgreSQL notifies the session if it listens. */
  append(): void {
    if (this.listening) this.onAppended();
  }

  count(call: string): number {
    return this.calls.filter((made) => made === call).length;
  }
}

const silent = { error: () => undefined } as unknown as Logger;
const publisher = { publish: () => Promise.resolve() } as unknown as KafkaPublisher;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A relay on `reader`, started, once it has asked for the lock the first time. */
async function startedOn(reader: FakeReader, pollIntervalMs: number): Promise<OutboxRelay> {
  const relay = new OutboxRelay(reader as unknown as OutboxReader, publisher, silent, { pollIntervalMs });
  relay.start();
  await waitFor('the first attempt at the lock', () => reader.count('tryBecomeLeader') >= 1);
  return relay;
}

/** `count` appends, `gapMs` apart. */
async function appendMany(reader: FakeReader, count: number, gapMs: number): Promise<void> {
  for (let append = 0; append < count; append++) {
    reader.append();
    await sleep(gapMs);
  }
}

describe('OutboxRelay', () => {
  it('given a standby, does not listen, and appends do not wake it: it asks for the lock once a poll interval', async () => {
    const reader = new FakeReader();
    const relay = await startedOn(reader, 10_000);

    await appendMany(reader, 20, 1);
    await relay.stop();

    expect(reader.count('listen')).toBe(0);
    expect(reader.count('nextBatch')).toBe(0);
    // Once at start; stopping ends the wait without another round.
    expect(reader.count('tryBecomeLeader')).toBe(1);
  });

  it('given the lock, listens before its first read, and every append wakes it', async () => {
    const reader = new FakeReader();
    reader.leads = true;
    const relay = await startedOn(reader, 10_000);
    await waitFor('the first read', () => reader.count('nextBatch') === 1);

    await appendMany(reader, 5, 5);
    await waitFor('a read for each append', () => reader.count('nextBatch') >= 6);
    await relay.stop();

    expect(reader.calls.slice(0, 4)).toEqual(['connect', 'tryBecomeLeader', 'listen', 'nextBatch']);
    expect(reader.count('listen')).toBe(1);
    expect(reader.count('nextBatch')).toBe(6);
  });

  it('given a standby when the leader goes, takes the lock at its next poll and listens from then on', async () => {
    const reader = new FakeReader();
    const relay = await startedOn(reader, 30);
    expect(relay.isLeader).toBe(false);

    reader.leads = true;
    await waitFor('the lock at a later poll', () => relay.isLeader);
    await relay.stop();

    expect(relay.isLeader).toBe(true);
    expect(reader.count('listen')).toBe(1);
    expect(reader.calls.indexOf('listen')).toBeLessThan(reader.calls.indexOf('nextBatch'));
  });
});
