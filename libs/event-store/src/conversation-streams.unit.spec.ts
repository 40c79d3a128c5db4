import { AppError, type ConversationEvent, type PendingEvent } from '@contracts';
import { decide, fold, type ConversationState } from '@libs/conversation';
import { ConversationStreamBuilder, fixtureId } from '@libs/conversation/testing';
import { ConversationStreams } from './conversation-streams';
import type { AppendResult, AppendTarget, EventStore } from './event-store';

/**
 * An in-memory stand-in for the store with the real store's contract: an append based on a stale
 * version is a concurrency conflict. `interfere` lets another writer append between read and write.
 */
class RacingStore {
  appendCalls = 0;

  constructor(
    readonly given: ConversationStreamBuilder,
    private readonly interfere: (attempt: number) => void = () => undefined,
  ) {}

  read(): Promise<ConversationEvent[]> {
    return Promise.resolve([...this.given.events]);
  }

  append(target: AppendTarget, pending: PendingEvent[]): Promise<AppendResult> {
    this.appendCalls++;
    this.interfere(this.appendCalls);
    if (target.expectedVersion !== 'any' && target.expectedVersion !== this.given.events.length) {
      return Promise.reject(new AppError('concurrency-conflict'));
    }
    const events = pending.map((event) => this.given.append(event));
    return Promise.resolve({ status: 'appended', events, version: this.given.events.length });
  }
}

const ref = (given: ConversationStreamBuilder) => ({
  tenantId: given.tenantId,
  conversationId: given.conversationId,
});
const causation = { causationId: null, correlationId: fixtureId('c', 9) };
const receive = (n: number) => (state: ConversationState) =>
  decide(
    {
      type: 'receive-message',
      eventId: fixtureId('d', n),
      messageId: fixtureId('a', 100 + n),
      text: `m${n}`,
    },
    state,
  );

describe('ConversationStreams.execute', () => {
  it('on a concurrency conflict, reloads and decides again on the newer state', async () => {
    const given = new ConversationStreamBuilder();
    given.started();
    // Another writer lands a message between our read and our first append.
    const store = new RacingStore(given, (attempt) => {
      if (attempt === 1) given.message('from someone else');
    });
    const seenVersions: number[] = [];
    const streams = new ConversationStreams(store as unknown as EventStore);

    const result = await streams.execute(ref(given), causation, (state) => {
      seenVersions.push(state.version);
      return receive(1)(state);
    });

    expect(seenVersions).toEqual([1, 2]);
    expect(result.status).toBe('appended');
    expect(result.state.version).toBe(3);
    expect(fold(given.events).version).toBe(3);
  });

  it('gives up with the conflict after its retries when the stream keeps moving', async () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const store = new RacingStore(given, (attempt) => given.message(`interloper ${attempt}`));
    const streams = new ConversationStreams(store as unknown as EventStore);

    await expect(streams.execute(ref(given), causation, receive(1))).rejects.toMatchObject({
      code: 'concurrency-conflict',
    });
    expect(store.appendCalls).toBe(10);
  });

  it('does not retry other errors', async () => {
    const given = new ConversationStreamBuilder();
    given.started();
    given.closed();
    const store = new RacingStore(given);
    const streams = new ConversationStreams(store as unknown as EventStore);

    await expect(streams.execute(ref(given), causation, receive(1))).rejects.toMatchObject({
      code: 'conversation-closed',
    });
    expect(store.appendCalls).toBe(0);
  });

  it('appends nothing when the decider has nothing to say', async () => {
    const given = new ConversationStreamBuilder();
    given.started();
    const message = given.message('already here', fixtureId('a', 101));
    const store = new RacingStore(given);
    const streams = new ConversationStreams(store as unknown as EventStore);

    const result = await streams.execute(ref(given), causation, (state) =>
      decide(
        {
          type: 'receive-message',
          eventId: fixtureId('d', 1),
          messageId: message.data.messageId,
          text: 'already here',
        },
        state,
      ),
    );

    expect(result.status).toBe('unchanged');
    expect(store.appendCalls).toBe(0);
  });
});
