import { randomUUID } from 'node:crypto';
import { AppError, type ConversationEvent } from '@contracts';
import { sampleEvent } from '@contracts/testing';
import type { Principal } from '@libs/event-store';
import { EraseConversationCommand } from './erase-conversation.command';
import { decideErasure, erasureEventId, erasureStream } from './erasure.decider';

const officer: Principal = {
  tenant: { id: 'acme-cn', name: 'Acme' },
  keyId: randomUUID(),
  role: 'compliance',
};
const CONVERSATION = '3f1d2c4b-5a6e-4b7c-9d8e-0f1a2b3c4d5e';
const command = new EraseConversationCommand(officer, CONVERSATION, 'data-subject-request', 'T-1');
const fold = (...types: Parameters<typeof sampleEvent>[0][]) =>
  types
    .map((type) => sampleEvent(type) as ConversationEvent)
    .reduce(erasureStream.evolve, erasureStream.initialState());

describe('decideErasure', () => {
  it('given a started conversation, when erased, then one erasure event records who and why', () => {
    const state = fold(
      'conversation.started.v2',
      'conversation.message-received.v1',
      'conversation.closed.v1',
    );

    expect(decideErasure(command, state)).toEqual([
      {
        eventId: erasureEventId('acme-cn', CONVERSATION),
        type: 'conversation.erased.v1',
        data: { keyId: officer.keyId, role: 'compliance', reason: 'data-subject-request', reference: 'T-1' },
      },
    ]);
  });

  it('given an erased conversation, when erased again, then nothing new happens', () => {
    const state = fold('conversation.started.v2', 'conversation.erased.v1');

    expect(state.erasure?.data.reason).toBe('data-subject-request');
    expect(decideErasure(command, state)).toEqual([]);
  });

  it('given no conversation, when erased, then it is not found', () => {
    expect(() => decideErasure(command, fold())).toThrow(new AppError('conversation-not-found'));
  });

  it('derives one erasure id per tenant and conversation', () => {
    expect(erasureEventId('acme-cn', CONVERSATION)).toBe(erasureEventId('acme-cn', CONVERSATION));
    expect(erasureEventId('globex', CONVERSATION)).not.toBe(erasureEventId('acme-cn', CONVERSATION));
  });
});
