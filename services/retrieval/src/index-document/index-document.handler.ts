import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@contracts';
import { EventStore, StreamRunner } from '@libs/event-store';
import {
  DocumentIds,
  KnowledgeFilesRepository,
  awaitsIndexing,
  chunkDocument,
  decideIndexing,
  documentStreamId,
  knowledgeDocumentStream,
  type IndexingOutcome,
  type KnowledgeDocumentState,
} from '@libs/knowledge';
import { KeywordIndex, VectorIndex, searchableText, type IndexedChunk } from '@libs/knowledge-search';
import { Embedder } from '@libs/embeddings';
import { parseDocument } from '@libs/document-parsing';
import type { IndexDocumentCommand } from './index-document.command';
import { IndexingCheckpoints } from './indexing-checkpoints.repository';

export const INGEST_BATCH_SIZE = Symbol('INGEST_BATCH_SIZE');
/** Whether to seal Milvus's growing segment once a document is indexed (see VectorIndex.flush). */
export const FLUSH_VECTORS_AFTER_INDEXING = Symbol('FLUSH_VECTORS_AFTER_INDEXING');

/**
 * Indexes one revision of a document into both indexes: parse, chunk, embed and write batch by batch,
 * checkpointing after each, then remove every chunk of other revisions (the replaced one, and any left
 * by a revision whose indexing a crash cut short) and record `indexed`. Chunk ids derive from document,
 * revision and position, so a batch redone after a restart overwrites itself instead of duplicating.
 * Failures of the backends throw and are retried by the consumer (they are outages, not the file's fault).
 */
@Injectable()
export class IndexDocumentHandler {
  private readonly runner: StreamRunner<'knowledge-document', KnowledgeDocumentState>;

  constructor(
    @Inject(EventStore) store: EventStore,
    @Inject(KnowledgeFilesRepository) private readonly files: KnowledgeFilesRepository,
    @Inject(IndexingCheckpoints) private readonly checkpoints: IndexingCheckpoints,
    @Inject(KeywordIndex) private readonly keywords: KeywordIndex,
    @Inject(VectorIndex) private readonly vectors: VectorIndex,
    @Inject(Embedder) private readonly embedder: Embedder,
    @Inject(INGEST_BATCH_SIZE) private readonly batchSize: number,
    @Inject(FLUSH_VECTORS_AFTER_INDEXING) private readonly flushVectors: boolean,
  ) {
    this.runner = new StreamRunner(store, knowledgeDocumentStream);
  }

  async execute({ trigger }: IndexDocumentCommand): Promise<void> {
    const { tenantId } = trigger;
    const { documentId, revision, title, format, contentHash } = trigger.data;
    const ref = { tenantId, streamId: documentStreamId(documentId) };
    const revisionRef = { tenantId, documentId, revision };
    if (!awaitsIndexing((await this.runner.load(ref)).state, revision)) return;

    const content = await this.files.get(tenantId, contentHash);
    if (!content)
      throw new AppError('dependency-unavailable', `file ${contentHash} of ${documentId} not found`);
    let chunks;
    try {
      chunks = chunkDocument(await parseDocument(format, content));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return this.record(trigger, { type: 'failed', code: 'unparseable', message });
    }
    if (chunks.length === 0) {
      return this.record(trigger, { type: 'failed', code: 'empty', message: 'the file holds no text' });
    }

    const total = chunks.length;
    await Promise.all([this.keywords.ensureIndex(), this.vectors.ensureCollection()]);
    for (let from = await this.checkpoints.indexed(revisionRef); from < total; from += this.batchSize) {
      const batch: IndexedChunk[] = chunks.slice(from, from + this.batchSize).map((chunk) => ({
        id: DocumentIds.chunk(tenantId, documentId, revision, chunk.index),
        tenantId,
        documentId,
        revision,
        chunkIndex: chunk.index,
        title,
        heading: chunk.heading,
        text: chunk.text,
      }));
      const vectors = await this.embedder.embedPassages(batch.map(searchableText));
      await Promise.all([this.keywords.upsert(batch), this.vectors.upsert(batch, vectors)]);
      const indexed = Math.min(total, from + batch.length);
      await this.checkpoints.save(revisionRef, indexed, total);
      if (indexed < total)
        await this.record(trigger, { type: 'progressed', chunksIndexed: indexed, chunksTotal: total });
    }

    await this.removeOtherRevisions(tenantId, documentId, revision);
    // Once per document, not per batch: sealed segments get the HNSW index, and fewer are better.
    if (this.flushVectors) await this.vectors.flush();
    await this.record(trigger, { type: 'indexed', chunks: total, embeddingModel: this.embedder.model });
    // Deleted or replaced while this ran: the later event's handler cleans up after it, but a delete
    // that came first in the partition cannot have, so make sure nothing of this revision outlives it.
    const { state } = await this.runner.load(ref);
    if (state.status === 'deleted') await this.removeAll(tenantId, documentId);
  }

  private async removeOtherRevisions(tenantId: string, documentId: string, keep: number): Promise<void> {
    await Promise.all([
      this.keywords.deleteDocument(tenantId, documentId, keep),
      this.vectors.deleteDocument(tenantId, documentId, keep),
    ]);
  }

  async removeAll(tenantId: string, documentId: string): Promise<void> {
    await Promise.all([
      this.keywords.deleteDocument(tenantId, documentId),
      this.vectors.deleteDocument(tenantId, documentId),
    ]);
  }

  private async record(trigger: IndexDocumentCommand['trigger'], outcome: IndexingOutcome): Promise<void> {
    const { tenantId } = trigger;
    const { documentId, revision } = trigger.data;
    await this.runner.execute(
      { tenantId, streamId: documentStreamId(documentId) },
      { causationId: trigger.eventId, correlationId: trigger.correlationId },
      (state) => decideIndexing({ tenantId, documentId, revision, outcome }, state),
    );
  }
}
