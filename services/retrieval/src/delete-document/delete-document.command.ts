import type { EventOfType } from '@contracts';

export class DeleteDocumentCommand {
  constructor(readonly trigger: EventOfType<'knowledge.document-deleted.v1'>) {}
}
