import { fold } from './conversation.state';
import { ConversationStreamBuilder, fixtureId } from './conversation-stream.fixture';
import {
  failureCode,
  isTurnCurrent,
  nextAttempt,
  replyChunk,
  replyCompleted,
  replyFailed,
} from './generation';
import { DerivedIds, derivedId } from './ids';

function openTurn() {
  const given = new ConversationStreamBuilder();
  given.started();
  const message = given.message('where is my parcel?');
  const { data } = given.replyRequested([message.data.messageId]);
  return { given, turnId: data.turnId };
}

describe('generation decisions', () => {
  it('given an open turn, then it is current and its first attempt is 1', () => {
    const { given, turnId } = openTurn();

    expect(isTurnCurrent(fold(given.events), turnId)).toBe(true);
    expect(nextAttempt(fold(given.events), turnId)).toBe(1);
  });

  it('given chunks of attempt 2 were seen, then the next generation runs as attempt 3', () => {
    const { given, turnId } = openTurn();
    given.chunk(turnId, 1, 0);
    given.chunk(turnId, 2, 0);

    expect(nextAttempt(fold(given.events), turnId)).toBe(3);
  });

  it.each([
    ['answered', (given: ConversationStreamBuilder, turnId: string) => given.replyCompleted(turnId, 'done')],
    ['failed', (given: ConversationStreamBuilder, turnId: string) => given.replyFailed(turnId)],
    ['closed', (given: ConversationStreamBuilder) => given.closed()],
  ])('given the turn was %s, then it is no longer current and gets no attempt', (_label, end) => {
    const { given, turnId } = openTurn();
    end(given, turnId);

    expect(isTurnCurrent(fold(given.events), turnId)).toBe(false);
    expect(nextAttempt(fold(given.events), turnId)).toBeNull();
  });

  it('an unknown turn is never current', () => {
    const { given } = openTurn();

    expect(isTurnCurrent(fold(given.events), fixtureId('f', 1))).toBe(false);
  });

  it('chunks and outcomes carry the frozen derived ids, so a redelivery appends nothing new', () => {
    const turnId = fixtureId('b', 1);
    const completed = replyCompleted({
      turnId,
      attempt: 2,
      text: 'ok',
      model: 'm',
      finishReason: 'stop',
      usage: { promptTokens: 1, completionTokens: 1 },
      timings: { firstTokenMs: null, totalMs: 1 },
      parts: [{ backend: 'primary', model: 'm', start: 0, end: 2 }],
    });
    const failed = replyFailed({ turnId, attempt: 1, code: 'model-error', message: 'x' });

    // The recipes as released (argument orders included): changing one would break de-duplication.
    expect(completed.eventId).toBe(derivedId(turnId, 'completed'));
    expect(failed.eventId).toBe(derivedId(turnId, 'failed'));
    expect(replyChunk(turnId, 2, 5, 'hi').eventId).toBe(derivedId(turnId, 'chunk', '2', '5'));
    expect(DerivedIds.replyRequested(turnId)).toBe(derivedId('reply-requested', turnId));
    expect(DerivedIds.turn('c', ['m1', 'm2'])).toBe(derivedId('turn', 'c', 'm1', 'm2'));
    expect(DerivedIds.messageReceived('m')).toBe(derivedId('message-received', 'm'));
    expect(DerivedIds.clientMessage('t', 'c', 'k')).toBe(derivedId('client-message', 't', 'c', 'k'));
  });

  it.each([
    [{ timedOut: true, connectionFailed: true }, 'model-timeout'],
    [{ timedOut: false, connectionFailed: true }, 'model-unavailable'],
    [{ timedOut: false, connectionFailed: false }, 'model-error'],
  ] as const)('failureCode(%j) is %s', (failure, code) => {
    expect(failureCode(failure)).toBe(code);
  });
});
