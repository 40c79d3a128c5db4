import type { EventOfType } from '@contracts';

export class RunModelTaskCommand {
  constructor(readonly request: EventOfType<'conversation.model-task-requested.v1'>) {}
}
