import {
  AppError,
  TENANT_SETTINGS_STREAM,
  type EventsOfKind,
  type PendingEvent,
  type StoredEvent,
  type StreamKind,
} from '@contracts';
import { contextOf, decide, statusOf, type ConversationState } from '@libs/conversation';
import { CONVERSATION_ID, TENANT_ID, fixtureId } from '@libs/conversation/testing';
import { ConversationStreams, streamRef } from './conversation-streams';
import type { AppendResult, AppendTarget, ReadOptions, StreamRef } from './event-store';
import { InMemoryEventStore } from './in-memory-event-store';
import { TenantSettingsStreams } from './tenant-settings-streams';

/** The in-memory store, counting the events its reads return. */
class CountingStore extends InMemoryEventStore {
  eventsRead = 0;
  reads = 0;

  override async read<K extends StreamKind>(
    kind: K,
    streamRef: StreamRef,
    options?: ReadOptions,
  ): Promise<EventsOfKind[K][]> {
    const events = await super.read(kind, streamRef, options);
    this.eventsRead += events.length;
    this.reads++;
    return events;
  }
}

/** The in-memory store, with a hook that lets another writer land between our read and our append. */
class RacingStore extends InMemoryEventStore {
  appendCalls = 0;
  interfere: (attempt: number) => Promise<unknown> = () => Promise.resolve();
  private interfering = false;

  override async append<K extends StreamKind>(
    target: AppendTarget<K>,
    pending: readonly PendingEvent<K>[],
  ): Promise<AppendResult<K>> {
    if (!this.interfering) {
      // The interloper's own append goes straight through: it is the other writer, not us.
      this.appendCalls++;
      this.interfering = true;
      try {
        await this.interfere(this.appendCalls);
      } finally {
        this.interfering = false;
      }
    }
    return super.append(target, pending);
  }
}

const ref = { tenantId: TENANT_ID, conversationId: CONVERSATION_ID };

/** The one event a decision appended, as a consumer would receive it. */
function appendedEvent(executed: { result?: AppendResult<'conversation'> }) {
  const result = executed.result;
  if (result?.status !== 'appended' || result.events.length !== 1)
    throw new Error('expected one appended event');
  return result.events[0];
}
const causation = { causationId: null, correlationId: fixtureId('c', 9) };
let ids = 0;
const nextId = () => fixtureId('d', ++ids);

const start = (state: ConversationState) =>
  decide(
    {
      type: 'start-conversation',
      eventId: nextId(),
      data: { channel: 'web', locale: 'zh-CN', labels: {}, configVersion: 0 },
    },
    state,
  );
const receive =
  (text: string, messageId = nextId()) =>
  (state: ConversationState) =>
    decide({ type: 'receive-message', eventId: nextId(), messageId, text }, state);
const close = (state: ConversationState) =>
  decide({ type: 'close-conversation', eventId: nextId(), reason: 'resolved' }, state);

describe('the generic runner with the conversation machine (ConversationStreams)', () => {
  it('given no stream, when started and sent a message, then the state is folded from what was stored', async () => {
    const store = new InMemoryEventStore();
    const streams = new ConversationStreams(store);

    await streams.execute(ref, causation, start);
    const result = await streams.execute(ref, causation, receive('你好'));

    expect(result.status).toBe('appended');
    expect(statusOf(result.state)).toBe('answering');
    expect(await streams.load(ref)).toEqual(result.state);
    expect(await store.streamVersion({ tenantId: TENANT_ID, streamId: CONVERSATION_ID })).toBe(2);
  });

  it('on a concurrency conflict, reloads and decides again on the newer state', async () => {
    const store = new RacingStore();
    const streams = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    store.appendCalls = 0;
    // Another writer lands a message between our read and our first append.
    store.interfere = async (attempt) => {
      if (attempt === 1) await streams.execute(ref, causation, receive('someone else'));
    };
    const seenVersions: number[] = [];

    const result = await streams.execute(ref, causation, (state) => {
      seenVersions.push(state.version);
      return receive('mine')(state);
    });

    expect(seenVersions).toEqual([1, 2]);
    expect(result.status).toBe('appended');
    expect(result.state.version).toBe(3);
    expect(contextOf(result.state).transcript.map((entry) => entry.text)).toEqual(['someone else', 'mine']);
  });

  it('gives up with the conflict after its retries when the stream keeps moving', async () => {
    const store = new RacingStore();
    const streams = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    store.appendCalls = 0;
    store.interfere = (attempt) => streams.execute(ref, causation, receive(`interloper ${attempt}`));

    await expect(streams.execute(ref, causation, receive('never lands'))).rejects.toMatchObject({
      code: 'concurrency-conflict',
    });
    expect(store.appendCalls).toBe(10);
  });

  it('does not retry domain errors', async () => {
    const store = new RacingStore();
    const streams = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    await streams.execute(ref, causation, close);
    store.appendCalls = 0;

    await expect(streams.execute(ref, causation, receive('too late'))).rejects.toMatchObject({
      code: 'conversation-closed',
    });
    expect(store.appendCalls).toBe(0);
  });

  it('appends nothing when the decider has nothing to say, and reports a redelivery as duplicate', async () => {
    const store = new RacingStore();
    const streams = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    const messageId = fixtureId('a', 7);
    const first = await streams.execute(ref, causation, receive('once', messageId));
    store.appendCalls = 0;

    const again = await streams.execute(ref, causation, receive('once', messageId));

    expect(again.status).toBe('unchanged');
    expect(store.appendCalls).toBe(0);
    expect(again.state).toEqual(first.state);
  });

  it('keeps the latest state in memory: a load reads only what was appended since, also by another process', async () => {
    const store = new CountingStore();
    const streams = new ConversationStreams(store);
    const otherProcess = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    await streams.execute(ref, causation, receive('one'));
    store.eventsRead = 0;

    await otherProcess.execute(ref, causation, receive('two')); // folds all 2, appends 1
    const readByOther = store.eventsRead;
    const loaded = await streams.load(ref);

    expect(readByOther).toBe(2);
    expect(store.eventsRead - readByOther).toBe(1); // only 'two'
    expect(contextOf(loaded).transcript.map((entry) => entry.text)).toEqual(['one', 'two']);
    expect(loaded).toEqual(await new ConversationStreams(store, { cachedStreams: 0 }).load(ref));
  });

  it('decides without reading when the triggering event is the next one after the state in memory', async () => {
    const store = new CountingStore();
    const streams = new ConversationStreams(store);
    const gateway = new ConversationStreams(store); // another process appends the trigger
    await streams.execute(ref, causation, start);
    const trigger = appendedEvent(await gateway.execute(ref, causation, receive('hello')));
    store.reads = 0;

    const result = await streams.execute(ref, causation, receive('and more'), trigger);

    expect(store.reads).toBe(0);
    expect(result.status).toBe('appended');
    expect(result.state).toEqual(await new ConversationStreams(store, { cachedStreams: 0 }).load(ref));
  });

  it('reads the tail when the trigger is not the next event, or when more was stored after it', async () => {
    const store = new CountingStore();
    const streams = new ConversationStreams(store);
    const other = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    const first = appendedEvent(await other.execute(ref, causation, receive('one')));
    await other.execute(ref, causation, receive('two'));
    store.reads = 0;

    // `first` is next after the state in memory, but 'two' came after it: the append conflicts, and the
    // retry reads the tail and decides on all of it.
    const result = await streams.execute(ref, causation, receive('three'), first);

    expect(store.reads).toBeGreaterThan(0);
    expect(contextOf(result.state).transcript.map((entry) => entry.text)).toEqual(['one', 'two', 'three']);
    expect(result.state).toEqual(await new ConversationStreams(store, { cachedStreams: 0 }).load(ref));

    store.reads = 0;
    const stale = await streams.execute(ref, causation, receive('four'), first); // an old redelivery
    expect(store.reads).toBe(1);
    expect(contextOf(stale.state).transcript.map((entry) => entry.text)).toEqual([
      'one',
      'two',
      'three',
      'four',
    ]);
  });

  it('folds again from the stored events after an erasure, read by any process', async () => {
    const store = new CountingStore();
    const streams = new ConversationStreams(store);
    await streams.execute(ref, causation, start);
    await streams.execute(ref, causation, receive('my phone is 13812345678'));
    await store.append({ ...streamRef(ref), ...causation, kind: 'conversation', expectedVersion: 2 }, [
      {
        eventId: nextId(),
        type: 'conversation.erased.v1',
        data: {
          keyId: fixtureId('f', 1),
          role: 'compliance',
          reason: 'data-subject-request',
          reference: null,
        },
      },
    ]);
    store.eventsRead = 0;

    const loaded = await streams.load(ref);

    expect(store.eventsRead).toBe(1 + 3); // the tail showed the erasure, then the whole stream again
    expect(statusOf(loaded)).toBe('closed');
  });

  it('forgets the least recently used stream, and does not cache a past state', async () => {
    const store = new CountingStore();
    const streams = new ConversationStreams(store, { cachedStreams: 1 });
    const otherRef = { tenantId: TENANT_ID, conversationId: fixtureId('e', 1) };
    await streams.execute(ref, causation, start);
    await streams.execute(otherRef, causation, start); // the only stream the cache holds now
    store.eventsRead = 0;

    await streams.load(ref); // forgotten: folded from the start
    expect(store.eventsRead).toBe(1);
    expect(statusOf(await streams.load(ref, { toSequence: 0 }))).toBe('new'); // a past state is not cached
    expect(statusOf(await streams.load(ref))).toBe('greeting');
  });

  it('reads the state as of any event (toSequence)', async () => {
    const streams = new ConversationStreams(new InMemoryEventStore());
    await streams.execute(ref, causation, start);
    await streams.execute(ref, causation, receive('one'));
    await streams.execute(ref, causation, close);

    expect(statusOf(await streams.load(ref, { toSequence: 1 }))).toBe('greeting');
    expect(statusOf(await streams.load(ref, { toSequence: 2 }))).toBe('answering');
    expect(statusOf(await streams.load(ref))).toBe('closed');
  });
});

const WARRANTY = {
  name: 'warranty_claim',
  description: 'A repair under warranty.',
  examples: ['保修期内坏了能修吗'],
  slots: [],
  handoff: false,
};

describe('the generic runner with a second stream kind (TenantSettingsStreams)', () => {
  it('given no settings, then version 0 and the engine defaults (nothing configured)', async () => {
    const settings = new TenantSettingsStreams(new InMemoryEventStore());

    expect(await settings.current(TENANT_ID)).toEqual({ version: 0, settings: {}, limits: {} });
    expect(await settings.atVersion(TENANT_ID, 0)).toEqual({});
  });

  it('when settings are replaced twice, then each version stays readable as it was', async () => {
    const store = new InMemoryEventStore();
    const settings = new TenantSettingsStreams(store);

    await settings.replace(TENANT_ID, nextId(), { systemPrompt: '你是璐明家居的客服。', historyLimit: 6 });
    await settings.replace(TENANT_ID, nextId(), { replyMaxTokens: 128 });

    expect(await settings.currentVersion(TENANT_ID)).toBe(2);
    expect(await settings.atVersion(TENANT_ID, 1)).toEqual({
      systemPrompt: '你是璐明家居的客服。',
      historyLimit: 6,
    });
    expect(await settings.atVersion(TENANT_ID, 2)).toEqual({ replyMaxTokens: 128 });
    const [first] = await store.read('tenant-settings', {
      tenantId: TENANT_ID,
      streamId: TENANT_SETTINGS_STREAM,
    });
    expect(first).toMatchObject({ type: 'tenant.settings-updated.v1', streamId: 'settings', sequence: 1 });
  });

  it('when the same settings are sent again, then no new version is created', async () => {
    const settings = new TenantSettingsStreams(new InMemoryEventStore());
    await settings.replace(TENANT_ID, nextId(), { historyLimit: 4 });

    const again = await settings.replace(TENANT_ID, nextId(), { historyLimit: 4 });

    expect(again.status).toBe('unchanged');
    expect(await settings.currentVersion(TENANT_ID)).toBe(1);
  });

  it('when the intents are replaced, then the other settings stay and a new version holds the intents', async () => {
    const settings = new TenantSettingsStreams(new InMemoryEventStore());
    await settings.replace(TENANT_ID, nextId(), { historyLimit: 4 });

    const replaced = await settings.execute(TENANT_ID, {
      type: 'replace-intents',
      eventId: nextId(),
      intents: [WARRANTY],
    });

    expect(replaced).toMatchObject({ status: 'appended', version: 2 });
    expect(await settings.atVersion(TENANT_ID, 2)).toEqual({ historyLimit: 4, intents: [WARRANTY] });
    expect(await settings.atVersion(TENANT_ID, 1)).toEqual({ historyLimit: 4 });
  });

  it('given an expected version, then a change against a stale one is refused and nothing is written', async () => {
    const settings = new TenantSettingsStreams(new InMemoryEventStore());
    await settings.replace(TENANT_ID, nextId(), { historyLimit: 4 });
    await settings.replace(TENANT_ID, nextId(), { historyLimit: 5 });
    const change = { type: 'replace-intents' as const, eventId: nextId(), intents: [WARRANTY] };

    await expect(settings.execute(TENANT_ID, change, 1)).rejects.toMatchObject({
      code: 'settings-version-conflict',
      details: { expectedVersion: 1, currentVersion: 2 },
    });
    expect(await settings.currentVersion(TENANT_ID)).toBe(2);

    await expect(settings.execute(TENANT_ID, change, 2)).resolves.toMatchObject({ version: 3 });
    // The same change again, against the version it was first made on: nothing to change, no conflict.
    await expect(settings.execute(TENANT_ID, { ...change, eventId: nextId() }, 2)).resolves.toMatchObject({
      status: 'unchanged',
      version: 3,
    });
  });

  it('keeps tenants apart: another tenant has its own settings stream', async () => {
    const settings = new TenantSettingsStreams(new InMemoryEventStore());
    await settings.replace('acme', nextId(), { historyLimit: 4 });

    expect(await settings.current('globex')).toEqual({ version: 0, settings: {}, limits: {} });
  });

  it('refuses a version that does not exist rather than answering with other settings', async () => {
    const settings = new TenantSettingsStreams(new InMemoryEventStore());
    await settings.replace(TENANT_ID, nextId(), { historyLimit: 4 });

    await expect(settings.atVersion(TENANT_ID, 3)).rejects.toThrow(/no settings version 3/);
  });
});

describe('the in-memory store keeps the real contract', () => {
  it('refuses an event of another kind in a stream', async () => {
    const store = new InMemoryEventStore();
    const streams = new ConversationStreams(store);
    await streams.execute(ref, causation, start);

    await expect(
      store.append(
        {
          tenantId: TENANT_ID,
          streamId: CONVERSATION_ID,
          kind: 'tenant-settings',
          expectedVersion: 'any',
          ...causation,
        },
        [{ eventId: nextId(), type: 'tenant.settings-updated.v1', data: { settings: {} } }],
      ),
    ).rejects.toBeInstanceOf(AppError);
  });

  it('upcasts on read: a stream seeded with a conversation.started.v1 folds as v2 under config version 0', async () => {
    const store = new InMemoryEventStore();
    const v1: StoredEvent = {
      eventId: fixtureId('e', 1),
      type: 'conversation.started.v1',
      tenantId: TENANT_ID,
      conversationId: CONVERSATION_ID,
      sequence: 1,
      occurredAt: '2025-06-01T08:00:00.000Z',
      causationId: null,
      correlationId: fixtureId('c', 1),
      data: { channel: 'app', locale: 'en-GB', labels: { queue: 'vip' } },
    };
    store.seed('conversation', [v1]);

    const [event] = await store.read('conversation', { tenantId: TENANT_ID, streamId: CONVERSATION_ID });
    const state = await new ConversationStreams(store).load(ref);
    const [all] = await store.readAll({ transactionId: '0', position: '0' }, 10);

    expect(event).toEqual({ ...v1, type: 'conversation.started.v2', data: { ...v1.data, configVersion: 0 } });
    expect(statusOf(state)).toBe('greeting');
    expect(contextOf(state)).toMatchObject({ channel: 'app', configVersion: 0, labels: { queue: 'vip' } });
    expect(all?.stored).toEqual(v1); // read-all keeps the stored form for the audit log
    expect(all?.event).toEqual(event);
  });
});
