import type { EventData, PendingEvent } from '@contracts';
import { DerivedIds } from './ids';

/** The events a model task ends with; one per task, whichever it is (see DerivedIds). Pure. */
export type ModelTaskOutcome = Extract<
  PendingEvent,
  { type: 'conversation.model-task-completed.v1' | 'conversation.model-task-failed.v1' }
>;

export function modelTaskCompleted(
  data: EventData<'conversation.model-task-completed.v1'>,
): ModelTaskOutcome {
  return {
    eventId: DerivedIds.modelTaskCompleted(data.taskId),
    type: 'conversation.model-task-completed.v1',
    data,
  };
}

export function modelTaskFailed(data: EventData<'conversation.model-task-failed.v1'>): ModelTaskOutcome {
  return {
    eventId: DerivedIds.modelTaskFailed(data.taskId),
    type: 'conversation.model-task-failed.v1',
    data,
  };
}
