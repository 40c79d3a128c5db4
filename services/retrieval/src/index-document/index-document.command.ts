import type { EventOfType } from '@contracts';

/** Index the revision an upload recorded (a first upload or a replacement). */
export class IndexDocumentCommand {
  constructor(
    readonly trigger: EventOfType<'knowledge.document-ingested.v1' | 'knowledge.document-replaced.v1'>,
  ) {}
}
